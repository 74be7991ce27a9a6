/*
 * See ledger_classify.h. The rules, stage by stage, are the table of
 * docs/ledger.md ("Differences"); keep the two together.
 *
 * Two explanations are not attributable to one hour: Kafka's lag (records
 * not yet read cannot be told apart by region or hour until they are) and
 * the dead letters (the record could not be parsed, so its region and hour
 * are unknown). Both are budgets, spent on the hours' shortfalls in time
 * order; what they cannot cover is missing.
 */
#include "base/common.h"
#include "ledger/ledger_classify.h"

struct budget {
	int64_t lag, dead;
};

static void add(struct ledger_diff *d, int *n, int max, const char *stage, const char *kind,
                enum ledger_class cls, int explained, int64_t count, const char *detail)
{
	if (count <= 0 || *n >= max)
		return;
	d[(*n)++] = (struct ledger_diff){stage, kind, cls, explained, count, detail};
}

#define ADD(h, ...) add((h)->diffs, &(h)->ndiffs, LEDGER_MAX_DIFFS, __VA_ARGS__)

static void accepted_vs_kafka(const struct ledger_report *r, struct ledger_hour *h,
                              struct budget *b)
{
	int64_t x = h->accepted - h->kafka, take;

	if (x > 0) {
		take = x < b->lag ? x : b->lag;
		b->lag -= take;
		ADD(h, "kafka", "in_flight", LEDGER_IN_FLIGHT, 1, take,
		    "accepted, still in Kafka: not yet ingested (consumer lag)");
		x -= take;
		take = x < b->dead ? x : b->dead;
		b->dead -= take;
		ADD(h, "kafka", "dead_lettered", LEDGER_MISMATCH, 1, take,
		    "accepted, then sent to the dead-letter topic by ingest");
		x -= take;
		ADD(h, "kafka", r->lag_known ? "missing" : "unknown", LEDGER_MISMATCH, 0, x,
		    r->lag_known ? "accepted by the api but neither ingested, in Kafka's lag, nor "
		                   "dead-lettered"
		                 : "accepted but not ingested; Kafka's lag is unknown");
		return;
	}
	x = -x;
	take = x < h->duplicates ? x : h->duplicates;
	ADD(h, "kafka", "duplicate_removed", LEDGER_SETTLED, 1, take,
	    "in Kafka without a 202 (answered 503 after a late broker ack, or the api died before "
	    "answering); the client's retry was accepted and enrich dropped the copy");
	x -= take;
	take = x < h->kafka_uncounted ? x : h->kafka_uncounted;
	ADD(h, "kafka", "not_counted", LEDGER_SETTLED, 1, take,
	    "in the lake before any api recorded its 202s (data older than the ledger, or "
	    "written by producers other than the api before it ran)");
	x -= take;
	if (r->api_crashed)
		ADD(h, "kafka", "api_counts_lost", LEDGER_MISMATCH, 1, x,
		    "an api instance died without its last flush: the 202s of its last second were "
		    "not recorded");
	else if (r->api_live)
		ADD(h, "kafka", "in_flight", LEDGER_IN_FLIGHT, 1, x,
		    "202s not yet flushed by the api (once a second)");
	else
		ADD(h, "kafka", "not_accepted", LEDGER_MISMATCH, 0, x,
		    "in Kafka and the lake without a 202 and without a retry: answered 503 after a "
		    "late broker ack, or produced by something other than the api");
}

/* lake is between published (what readers must see) and committed (what
 * ingest will publish): anything outside is a lake/bookkeeping mismatch,
 * except rows committed after the snapshot (later, read after the scan). */
static void lake_vs_books(struct ledger_hour *h, const char *stage, int64_t lake, int64_t published,
                          int64_t committed, int64_t later)
{
	int64_t known = later > committed ? later : committed;

	if (lake < 0) {
		ADD(h, stage, "in_flight", LEDGER_IN_FLIGHT, 1, committed - published,
		    "committed, not yet published into the lake");
		return;
	}
	ADD(h, stage, "lake_missing", LEDGER_MISMATCH, 0, published - lake,
	    "the bookkeeping has rows whose files are not in the lake (deleted or lost)");
	ADD(h, stage, "in_flight", LEDGER_IN_FLIGHT, 1, (lake < known ? lake : known) - committed,
	    "published after the ledger's snapshot, in the bookkeeping since: counted at the next "
	    "look");
	ADD(h, stage, "lake_extra", LEDGER_MISMATCH, 0, lake - known,
	    "the lake has rows the bookkeeping does not know (a stray or copied file)");
	if (lake >= published && lake <= committed)
		ADD(h, stage, "in_flight", LEDGER_IN_FLIGHT, 1, committed - lake,
		    "committed, not yet published into the lake");
}

static void classify_hour(const struct ledger_report *r, struct ledger_hour *h, struct budget *b)
{
	int64_t expect;

	h->ndiffs = 0;
	h->raw = h->raw_lake >= 0 ? h->raw_lake : h->raw_published;
	accepted_vs_kafka(r, h, b);
	lake_vs_books(h, "raw", h->raw_lake, h->raw_published, h->kafka, h->kafka_later);
	ADD(h, "enriched", h->late ? "late" : "in_flight", LEDGER_IN_FLIGHT, 1, h->raw_pending,
	    h->late ? "late plays (after their hour closed), not yet enriched"
	            : "in raw/, not yet enriched");
	expect = h->kafka - h->raw_pending - h->duplicates;
	ADD(h, "enriched", "enrich_missing", LEDGER_MISMATCH, 0, expect - h->enriched,
	    "enrich read more rows than it wrote plus the duplicates it dropped");
	ADD(h, "enriched", "enrich_extra", LEDGER_MISMATCH, 0, h->enriched - expect,
	    "enriched/ holds more plays than raw/ gave it");
	lake_vs_books(h, "enriched", h->enriched_lake, h->enriched_published, h->enriched,
	              h->enriched_later);
	ADD(h, "hourly", "in_flight", LEDGER_IN_FLIGHT, 1, h->enriched_pending,
	    "enriched, not yet counted into plays_hourly");
	expect = h->enriched - h->enriched_pending;
	ADD(h, "hourly", "aggregate_missing", LEDGER_MISMATCH, 0, expect - h->hourly,
	    "plays_hourly has fewer plays than the enriched files it counted");
	ADD(h, "hourly", "aggregate_extra", LEDGER_MISMATCH, 0, h->hourly - expect,
	    "plays_hourly has more plays than the enriched files it counted");
}

static void classify_global(struct ledger_report *r, const struct budget *b)
{
	struct ledger_diff *g = r->global;
	int *n = &r->nglobal, max = (int)ARRAY_SIZE(r->global);

	*n = 0;
	add(g, n, max, "kafka", "in_flight", LEDGER_IN_FLIGHT, 1, b->lag,
	    "records in Kafka not yet ingested, of no known region or hour yet");
	add(g, n, max, "kafka", "dead_lettered", LEDGER_SETTLED, 1, b->dead,
	    "dead letters that no accepted play accounts for: never accepted by the api");
	add(g, n, max, "daily", "chart_mismatch", LEDGER_MISMATCH, 0,
	    r->daily > r->hourly ? r->daily - r->hourly : r->hourly - r->daily,
	    "the per-song daily counts do not add up to the hourly ones");
	add(g, n, max, "hourly", "chart_mismatch", LEDGER_MISMATCH, 0, r->chart_hourly_bad,
	    "top_songs_hourly rows whose plays differ from plays_hourly");
	add(g, n, max, "daily", "chart_mismatch", LEDGER_MISMATCH, 0, r->chart_daily_bad,
	    "top_songs_daily rows whose plays differ from the song's day in plays_hourly");
	add(g, n, max, "hourly", "all_region_mismatch", LEDGER_MISMATCH, 0, r->all_region_bad,
	    "(hour, song) pairs whose region ALL count is not the sum of the regions");
}

static void count(struct ledger_report *r, const struct ledger_diff *d, int n)
{
	for (int i = 0; i < n; i++) {
		r->in_flight += d[i].cls == LEDGER_IN_FLIGHT;
		r->mismatches += d[i].cls == LEDGER_MISMATCH;
		r->unexplained += d[i].cls == LEDGER_MISMATCH && !d[i].explained;
	}
}

void ledger_classify(struct ledger_report *r)
{
	struct budget b = {r->lag_known ? r->lag : 0, r->dead_letters};

	r->accepted = r->kafka = r->raw = r->enriched = r->duplicates = 0;
	r->hourly = r->daily = 0;
	r->in_flight = r->mismatches = r->unexplained = 0;
	for (int i = 0; i < r->nhours; i++) {
		struct ledger_hour *h = &r->hours[i];

		classify_hour(r, h, &b);
		r->accepted += h->accepted;
		r->kafka += h->kafka;
		r->raw += h->raw;
		r->enriched += h->enriched_lake >= 0 ? h->enriched_lake : h->enriched_published;
		r->duplicates += h->duplicates;
		r->hourly += h->hourly;
		r->daily += h->daily;
		count(r, h->diffs, h->ndiffs);
	}
	classify_global(r, &b);
	count(r, r->global, r->nglobal);
	r->balanced = !r->in_flight && !r->mismatches;
	r->status = r->mismatches ? "mismatch" : r->in_flight ? "in_flight" : "balanced";
}
