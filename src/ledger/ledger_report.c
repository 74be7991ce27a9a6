/*
 * The two renderings of a ledger report: the JSON document whose field
 * names docs/ledger.md promises to keep (other tools assert on it), and a
 * table for a terminal. Both are pure.
 */
#include "base/common.h"
#include "base/timeutil.h"
#include "ledger/ledger.h"

static const char *const class_names[] = {"in_flight", "settled", "mismatch"};

static void add_time(struct dbuf *b, const char *key, int64_t us)
{
	char t[40];

	time_format_rfc3339_ms(us, t, sizeof(t));
	dbuf_addf(b, "\"%s\":\"%s\"", key, t);
}

static void diff_json(struct dbuf *b, const struct ledger_hour *h, const struct ledger_diff *d)
{
	dbuf_addstr(b, "{\"region\":");
	if (h) {
		dbuf_add_json_str(b, h->region);
		dbuf_addc(b, ',');
		add_time(b, "hour", h->hour_us);
	} else {
		dbuf_addstr(b, "null,\"hour\":null");
	}
	dbuf_addf(
	    b,
	    ",\"stage\":\"%s\",\"kind\":\"%s\",\"class\":\"%s\",\"explained\":%s,\"plays\":%lld,"
	    "\"detail\":",
	    d->stage, d->kind, class_names[d->cls], d->explained ? "true" : "false",
	    (long long)d->count);
	dbuf_add_json_str(b, d->detail);
	dbuf_addc(b, '}');
}

static const char *hour_status(const struct ledger_hour *h)
{
	int in_flight = 0;

	for (int i = 0; i < h->ndiffs; i++) {
		if (h->diffs[i].cls == LEDGER_MISMATCH)
			return "mismatch";
		in_flight |= h->diffs[i].cls == LEDGER_IN_FLIGHT;
	}
	return in_flight ? "in_flight" : "balanced";
}

static void opt_num(struct dbuf *b, const char *key, int64_t v)
{
	if (v < 0)
		dbuf_addf(b, ",\"%s\":null", key);
	else
		dbuf_addf(b, ",\"%s\":%lld", key, (long long)v);
}

static void hour_json(struct dbuf *b, const struct ledger_hour *h)
{
	dbuf_addstr(b, "{\"region\":");
	dbuf_add_json_str(b, h->region);
	dbuf_addc(b, ',');
	add_time(b, "hour", h->hour_us);
	dbuf_addf(b,
	          ",\"status\":\"%s\",\"accepted\":%lld,\"kafka\":%lld,\"raw\":%lld,"
	          "\"raw_committed\":%lld,\"raw_published\":%lld,\"raw_pending_enrich\":%lld",
	          hour_status(h), (long long)h->accepted, (long long)h->kafka, (long long)h->raw,
	          (long long)h->kafka, (long long)h->raw_published, (long long)h->raw_pending);
	opt_num(b, "raw_lake", h->raw_lake);
	opt_num(b, "raw_files", h->raw_lake_files);
	dbuf_addf(
	    b, ",\"enriched\":%lld,\"enriched_published\":%lld,\"enriched_pending_aggregate\":%lld",
	    (long long)(h->enriched_lake >= 0 ? h->enriched_lake : h->enriched_published),
	    (long long)h->enriched_published, (long long)h->enriched_pending);
	opt_num(b, "enriched_lake", h->enriched_lake);
	opt_num(b, "enriched_files", h->enriched_lake_files);
	dbuf_addf(
	    b, ",\"duplicates_removed\":%lld,\"unknown_songs\":%lld,\"hourly\":%lld,\"late\":%lld}",
	    (long long)h->duplicates, (long long)h->unknown_songs, (long long)h->hourly,
	    (long long)h->late);
}

static void head_json(const struct ledger_report *r, struct dbuf *b)
{
	dbuf_addstr(b, "{\"version\":1,");
	add_time(b, "from", r->from_us);
	dbuf_addc(b, ',');
	add_time(b, "to", r->to_us);
	dbuf_addstr(b, ",\"region\":");
	if (r->region[0])
		dbuf_add_json_str(b, r->region);
	else
		dbuf_addstr(b, "null");
	dbuf_addc(b, ',');
	add_time(b, "generated_at", r->generated_us);
	dbuf_addf(
	    b,
	    ",\"status\":\"%s\",\"balanced\":%s,\"lake_checked\":%s,\"counts\":{\"in_flight\":"
	    "%d,\"mismatches\":%d,\"unexplained\":%d},\"totals\":{\"accepted\":%lld,\"kafka\":"
	    "%lld,\"raw\":%lld,\"enriched\":%lld,\"duplicates_removed\":%lld,\"hourly\":%lld,"
	    "\"daily\":%lld},",
	    r->status, r->balanced ? "true" : "false", r->lake_checked ? "true" : "false",
	    r->in_flight, r->mismatches, r->unexplained, (long long)r->accepted,
	    (long long)r->kafka, (long long)r->raw, (long long)r->enriched,
	    (long long)r->duplicates, (long long)r->hourly, (long long)r->daily);
	if (r->lag_known)
		dbuf_addf(
		    b, "\"kafka\":{\"lag\":%lld,\"end_offsets\":%lld,\"committed_offsets\":%lld,",
		    (long long)r->lag, (long long)r->end_offsets, (long long)r->committed_offsets);
	else
		dbuf_addstr(
		    b, "\"kafka\":{\"lag\":null,\"end_offsets\":null,\"committed_offsets\":null,");
	dbuf_addstr(b, "\"error\":");
	if (r->lag_known)
		dbuf_addstr(b, "null");
	else
		dbuf_add_json_str(b, r->lag_error);
	dbuf_addf(
	    b,
	    ",\"dead_lettered\":%lld},\"api\":{\"live_instances\":%d,\"crashed_instances\":%d},"
	    "\"charts\":{\"hourly_rows_off\":%lld,\"daily_rows_off\":%lld,\"all_region_off\":"
	    "%lld},",
	    (long long)r->dead_letters, r->api_live, r->api_crashed, (long long)r->chart_hourly_bad,
	    (long long)r->chart_daily_bad, (long long)r->all_region_bad);
}

int ledger_report_json(const struct ledger_report *r, struct dbuf *b)
{
	int sep = 0;

	head_json(r, b);
	dbuf_addstr(b, "\"differences\":[");
	for (int i = 0; i < r->nglobal; i++, sep = 1) {
		if (sep)
			dbuf_addc(b, ',');
		diff_json(b, NULL, &r->global[i]);
	}
	for (int i = 0; i < r->nhours; i++)
		for (int j = 0; j < r->hours[i].ndiffs; j++, sep = 1) {
			if (sep)
				dbuf_addc(b, ',');
			diff_json(b, &r->hours[i], &r->hours[i].diffs[j]);
		}
	dbuf_addstr(b, "],\"hours\":[");
	for (int i = 0; i < r->nhours; i++) {
		if (i)
			dbuf_addc(b, ',');
		hour_json(b, &r->hours[i]);
	}
	return dbuf_addstr(b, "]}\n");
}

static void diff_text(struct dbuf *b, const struct ledger_hour *h, const struct ledger_diff *d)
{
	char t[40] = "(all)";

	if (h)
		time_format_rfc3339_ms(h->hour_us, t, sizeof(t));
	dbuf_addf(b, "  %-9s %-8s %-24s %-8s %-18s %8lld  %s%s\n", class_names[d->cls],
	          h ? h->region : "", t, d->stage, d->kind, (long long)d->count, d->detail,
	          d->cls == LEDGER_MISMATCH && !d->explained ? " [UNEXPLAINED]" : "");
}

int ledger_report_text(const struct ledger_report *r, struct dbuf *b)
{
	char from[40], to[40];

	time_format_rfc3339_ms(r->from_us, from, sizeof(from));
	time_format_rfc3339_ms(r->to_us, to, sizeof(to));
	dbuf_addf(b, "ledger %s .. %s, region %s, lake %s\n\n", from, to,
	          r->region[0] ? r->region : "all", r->lake_checked ? "checked" : "not checked");
	dbuf_addf(b, "%-8s %-24s %10s %10s %10s %10s %6s %10s %10s  %s\n", "REGION", "HOUR",
	          "ACCEPTED", "KAFKA", "RAW", "ENRICHED", "DUPS", "HOURLY", "DAILY", "STATUS");
	for (int i = 0; i < r->nhours; i++) {
		const struct ledger_hour *h = &r->hours[i];
		char t[40];

		time_format_rfc3339_ms(h->hour_us, t, sizeof(t));
		dbuf_addf(
		    b, "%-8s %-24s %10lld %10lld %10lld %10lld %6lld %10lld %10lld  %s\n",
		    h->region, t, (long long)h->accepted, (long long)h->kafka, (long long)h->raw,
		    (long long)(h->enriched_lake >= 0 ? h->enriched_lake : h->enriched_published),
		    (long long)h->duplicates, (long long)h->hourly, (long long)h->daily,
		    hour_status(h));
	}
	dbuf_addf(b, "%-8s %-24s %10lld %10lld %10lld %10lld %6lld %10lld %10lld\n\n", "TOTAL", "",
	          (long long)r->accepted, (long long)r->kafka, (long long)r->raw,
	          (long long)r->enriched, (long long)r->duplicates, (long long)r->hourly,
	          (long long)r->daily);
	if (r->lag_known)
		dbuf_addf(b, "kafka: lag %lld (end offsets %lld, committed %lld); ",
		          (long long)r->lag, (long long)r->end_offsets,
		          (long long)r->committed_offsets);
	else
		dbuf_addf(b, "kafka: lag unknown (%s); ", r->lag_error);
	dbuf_addf(b, "dead letters since from: %lld; api instances live %d, died %d\n",
	          (long long)r->dead_letters, r->api_live, r->api_crashed);
	if (r->nglobal || r->in_flight || r->mismatches)
		dbuf_addstr(b, "\ndifferences:\n");
	for (int i = 0; i < r->nglobal; i++)
		diff_text(b, NULL, &r->global[i]);
	for (int i = 0; i < r->nhours; i++)
		for (int j = 0; j < r->hours[i].ndiffs; j++)
			diff_text(b, &r->hours[i], &r->hours[i].diffs[j]);
	return dbuf_addf(b, "\n%s: %d in flight, %d mismatches (%d unexplained)\n", r->status,
	                 r->in_flight, r->mismatches, r->unexplained);
}
