/*
 * See ledger.h. The ledger reads, in this order: the downstream bookkeeping
 * (ingest_files, flow_enrich_inputs, flow_enriched_files, plays_hourly,
 * lake_hours) and the api's counts in one REPEATABLE READ snapshot, so the
 * stages are compared at one instant of the database; then the lake's
 * footers (ledger_lake.c) and Kafka's end offsets, which cannot be in that
 * snapshot — a file published or a record produced in between shows as in
 * flight, never as a mismatch the other way, because the lake and Kafka are
 * read after the database. Then every hour is classified (ledger_classify.c).
 */
#include "base/common.h"
#include "base/failpoint.h"
#include "base/timeutil.h"
#include "db/db.h"
#include "kafka/kafka_watermarks.h"
#include "ledger/ledger.h"
#include "ledger/ledger_classify.h"
#include "ledger/ledger_lake.h"

#include <unistd.h>

#define HOUR_US 3600000000LL

/* One row per (region, hour), every stage summed from its table. $1 region
 * or NULL, $2 and $3 the range in epoch seconds. */
static const char hours_sql[] =
    "WITH r AS (SELECT to_timestamp($2::float8) AS lo, to_timestamp($3::float8) AS hi), "
    "f AS (SELECT f.region, (f.day + make_interval(hours => f.hour)) AT TIME ZONE 'UTC' AS h, "
    "f.rows, f.published, i.raw_path IS NULL AS pending, f.committed_at < coalesce((SELECT "
    "min(started_at) FROM api_instances), 'infinity') AS uncounted FROM ingest_files f LEFT JOIN "
    "flow_enrich_inputs i ON i.raw_path = f.path), "
    "e AS (SELECT region, (day + make_interval(hours => hour)) AT TIME ZONE 'UTC' AS h, rows, "
    "duplicates, unknown_songs, published, aggregated FROM flow_enriched_files), "
    "lh AS (SELECT region, (day + make_interval(hours => hour)) AT TIME ZONE 'UTC' AS h, "
    "late_rows FROM lake_hours), "
    "x AS ("
    "SELECT region, hour_start AS h, accepted AS a, 0::bigint AS k, 0::bigint AS kp, "
    "0::bigint AS kpend, 0::bigint AS e, 0::bigint AS ep, 0::bigint AS eagg, 0::bigint AS d, "
    "0::bigint AS u, 0::bigint AS hp, 0::bigint AS late, 0::bigint AS ku FROM api_accepted "
    "UNION ALL SELECT region, h, 0, rows, CASE WHEN published THEN rows ELSE 0 END, "
    "CASE WHEN pending THEN rows ELSE 0 END, 0, 0, 0, 0, 0, 0, 0, CASE WHEN uncounted THEN rows "
    "ELSE 0 END FROM f "
    "UNION ALL SELECT region, h, 0, 0, 0, 0, rows, CASE WHEN published THEN rows ELSE 0 END, "
    "CASE WHEN aggregated THEN rows ELSE 0 END, duplicates, unknown_songs, 0, 0, 0 FROM e "
    "UNION ALL SELECT region, hour_start, 0, 0, 0, 0, 0, 0, 0, 0, 0, (SELECT sum(n) FROM "
    "unnest(plays) AS n)::bigint, 0, 0 FROM plays_hourly_packed WHERE region <> 'ALL' "
    "UNION ALL SELECT region, h, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, late_rows, 0 FROM lh) "
    "SELECT x.region, extract(epoch FROM x.h)::bigint, sum(a), sum(k), sum(kp), sum(kpend), "
    "sum(e), sum(ep), sum(eagg), sum(d), sum(u), sum(hp), sum(late), sum(ku) FROM x, r "
    "WHERE x.h >= r.lo AND x.h < r.hi AND ($1::text IS NULL OR x.region = $1) "
    "GROUP BY 1, 2 ORDER BY 2, 1";

/* The per-song daily counts within the range, per (region, hour) of their
 * day's hours — the same plays as hourly, summed another way: by (region,
 * day, song) first, as the daily chart does. */
static const char daily_sql[] =
    "WITH d AS (SELECT region, (hour_start AT TIME ZONE 'UTC')::date AS day, song_id, "
    "sum(plays) AS plays FROM plays_hourly WHERE region <> 'ALL' AND hour_start >= "
    "to_timestamp($2::float8) AND hour_start < to_timestamp($3::float8) AND ($1::text IS NULL "
    "OR region = $1) GROUP BY 1, 2, 3) SELECT region, extract(epoch FROM day::timestamp AT TIME "
    "ZONE 'UTC')::bigint, sum(plays) FROM d GROUP BY 1, 2";

/* Chart rows that disagree with the per-song counts: hourly, daily (for
 * days wholly inside the range), and hours where region ALL is not the sum
 * of the regions. A chart row's count is looked up in its hour's packed
 * row (array_position): through the plays_hourly view the planner
 * expected ten songs an hour and sorted every count of the range. */
static const char charts_sql[] =
    "SELECT (SELECT count(*) FROM top_songs_hourly t LEFT JOIN plays_hourly_packed p ON "
    "p.region = t.region AND p.hour_start = t.hour_start WHERE t.hour_start >= "
    "to_timestamp($2::float8) AND t.hour_start < to_timestamp($3::float8) AND ($1::text IS NULL "
    "OR t.region = $1) AND p.plays[array_position(p.song_ids, t.song_id)] IS DISTINCT FROM "
    "t.plays), "
    "(SELECT count(*) FROM top_songs_daily t WHERE t.day::timestamp AT TIME ZONE 'UTC' >= "
    "to_timestamp($2::float8) AND (t.day + 1)::timestamp AT TIME ZONE 'UTC' <= "
    "to_timestamp($3::float8) AND ($1::text IS NULL OR t.region = $1) AND t.plays IS DISTINCT "
    "FROM (SELECT sum(p.plays[array_position(p.song_ids, t.song_id)]) FROM plays_hourly_packed "
    "p WHERE p.region = t.region AND p.hour_start >= t.day::timestamp AT TIME ZONE 'UTC' AND "
    "p.hour_start < (t.day + 1)::timestamp AT TIME ZONE 'UTC')), "
    "(SELECT count(*) FROM (SELECT hour_start, song_id, sum(plays) FILTER (WHERE region = "
    "'ALL') AS a, sum(plays) FILTER (WHERE region <> 'ALL') AS s FROM plays_hourly WHERE "
    "hour_start >= to_timestamp($2::float8) AND hour_start < to_timestamp($3::float8) GROUP BY "
    "1, 2) q WHERE a IS DISTINCT FROM s)";

/* Dead letters committed since the range began, api instances alive (a
 * flush in the last 5 s) and dead without an orderly stop, whose life
 * overlaps the time since the range began, and the committed offsets. */
static const char global_sql[] =
    "SELECT (SELECT coalesce(sum(records), 0) FROM ingest_dead_letters WHERE topic = $1 AND "
    "committed_at >= to_timestamp($2::float8)), "
    "(SELECT count(*) FROM api_instances WHERE stopped_at IS NULL AND flushed_at >= now() - "
    "interval '5 seconds'), "
    "(SELECT count(*) FROM api_instances WHERE stopped_at IS NULL AND flushed_at < now() - "
    "interval '5 seconds' AND flushed_at >= to_timestamp($2::float8))";

/* What ingest and enrich have committed per (region, hour) now, read after
 * the lake scan and outside the snapshot (see attempt). */
static const char later_sql[] =
    "WITH x AS (SELECT region, (day + make_interval(hours => hour)) AT TIME ZONE 'UTC' AS h, "
    "rows AS k, 0::bigint AS e FROM ingest_files UNION ALL SELECT region, (day + "
    "make_interval(hours => hour)) AT TIME ZONE 'UTC', 0, rows FROM flow_enriched_files) "
    "SELECT region, extract(epoch FROM h)::bigint, sum(k), sum(e) FROM x WHERE h >= "
    "to_timestamp($2::float8) AND h < to_timestamp($3::float8) AND ($1::text IS NULL OR "
    "region = $1) GROUP BY 1, 2";

/* The api's counts, read before Kafka and the snapshot (see above). */
static const char accepted_sql[] =
    "SELECT region, extract(epoch FROM hour_start)::bigint, accepted FROM api_accepted WHERE "
    "hour_start >= to_timestamp($2::float8) AND hour_start < to_timestamp($3::float8) AND "
    "($1::text IS NULL OR region = $1)";

static void range_params(const struct ledger_opts *o, char bufs[2][32], const char *p[3])
{
	snprintf(bufs[0], 32, "%lld", (long long)(o->from_us / 1000000));
	snprintf(bufs[1], 32, "%lld", (long long)(o->to_us / 1000000));
	p[0] = o->region;
	p[1] = bufs[0];
	p[2] = bufs[1];
}

static int64_t val(PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

/* The hour of region at hour_us, added when absent (lake-only hours). */
struct ledger_hour *ledger_hour_get(struct ledger_report *r, const char *region, int64_t hour_us)
{
	struct ledger_hour *h;

	/* The lake lists an hour's files one after another. */
	if (r->cursor < r->nhours && r->hours[r->cursor].hour_us == hour_us &&
	    !strcmp(r->hours[r->cursor].region, region))
		return &r->hours[r->cursor];
	for (int i = 0; i < r->nhours; i++)
		if (r->hours[i].hour_us == hour_us && !strcmp(r->hours[i].region, region)) {
			r->cursor = i;
			return &r->hours[i];
		}
	if (r->nhours == LEDGER_MAX_HOURS)
		return NULL;
	h = &r->hours[r->nhours++];
	memset(h, 0, sizeof(*h));
	snprintf(h->region, sizeof(h->region), "%s", region);
	h->hour_us = hour_us;
	r->cursor = r->nhours - 1;
	return h;
}

static void fill_hours(struct ledger_report *r, PGresult *res)
{
	for (int i = 0; i < PQntuples(res) && r->nhours < LEDGER_MAX_HOURS; i++) {
		struct ledger_hour *h = &r->hours[r->nhours++];

		memset(h, 0, sizeof(*h));
		snprintf(h->region, sizeof(h->region), "%s", PQgetvalue(res, i, 0));
		h->hour_us = val(res, i, 1) * 1000000;
		h->accepted = val(res, i, 2);
		h->kafka = val(res, i, 3);
		h->raw_published = val(res, i, 4);
		h->raw_unpublished = h->kafka - h->raw_published;
		h->raw_pending = val(res, i, 5);
		h->enriched = val(res, i, 6);
		h->enriched_published = val(res, i, 7);
		h->enriched_pending = h->enriched - val(res, i, 8);
		h->duplicates = val(res, i, 9);
		h->unknown_songs = val(res, i, 10);
		h->hourly = val(res, i, 11);
		h->late = val(res, i, 12);
		h->kafka_uncounted = val(res, i, 13);
		h->kafka_later = h->kafka;
		h->enriched_later = h->enriched;
		h->raw_lake = h->raw_lake_files = h->enriched_lake = h->enriched_lake_files = -1;
	}
}

/* Daily sums land on the first hour of their day that the report has. */
static void fill_daily(struct ledger_report *r, PGresult *res)
{
	for (int i = 0; i < PQntuples(res); i++) {
		int64_t day = val(res, i, 1) * 1000000, plays = val(res, i, 2);
		struct ledger_hour *first = NULL;

		for (int j = 0; j < r->nhours; j++) {
			struct ledger_hour *h = &r->hours[j];

			if (strcmp(h->region, PQgetvalue(res, i, 0)) || h->hour_us < day ||
			    h->hour_us >= day + 24 * HOUR_US)
				continue;
			if (!first || h->hour_us < first->hour_us)
				first = h;
			h->daily = 0;
		}
		if (first)
			first->daily = plays;
	}
}

#define MAX_PARTS 1024

/* End offsets of every partition, asked before the snapshot. */
struct ends {
	int64_t hw[MAX_PARTS];
	int n, known;
	char error[160];
};

static void read_ends(const struct ledger_opts *o, struct ends *e)
{
	struct ts_err err;

	ts_err_clear(&err);
	e->known = 0;
	if (!o->kafka) {
		snprintf(e->error, sizeof(e->error), "Kafka not asked");
		return;
	}
	if (kafka_watermarks_get(o->kafka, e->hw, MAX_PARTS, &e->n, &err)) {
		snprintf(e->error, sizeof(e->error), "%s", err.msg);
		return;
	}
	e->known = 1;
}

/* Lag of the whole topic: end offsets minus committed ones (a partition
 * ingest has never committed counts from its start). */
static void fill_lag(struct ledger_report *r, const struct ends *e, PGresult *offsets)
{
	r->lag_known = e->known;
	snprintf(r->lag_error, sizeof(r->lag_error), "%s", e->known ? "" : e->error);
	r->lag = r->end_offsets = r->committed_offsets = 0;
	for (int i = 0; e->known && i < e->n && i < MAX_PARTS; i++) {
		int64_t committed = 0;

		for (int j = 0; j < PQntuples(offsets); j++)
			if (val(offsets, j, 0) == i)
				committed = val(offsets, j, 1);
		r->end_offsets += e->hw[i];
		r->committed_offsets += committed;
		r->lag += e->hw[i] > committed ? e->hw[i] - committed : 0;
	}
}

/* The database part, in one snapshot. */
static int read_db(struct db *db, const struct ts_config *cfg, const struct ledger_opts *o,
                   const struct ends *ends, struct ledger_report *r, struct ts_err *err)
{
	char bufs[2][32];
	const char *p[3], *gp[2];
	PGresult *res = NULL;
	int rc;

	range_params(o, bufs, p);
	gp[0] = cfg->kafka_topic;
	gp[1] = bufs[0];
	rc = db_exec(db, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err);
	rc = rc ? rc : db_execp(db, hours_sql, 3, p, &res, err);
	if (!rc && PQntuples(res) > LEDGER_MAX_HOURS)
		rc = ts_err_set(err, TS_ETOOBIG,
		                "more than %d (region, hour) rows: narrow the range",
		                LEDGER_MAX_HOURS);
	if (!rc)
		fill_hours(r, res);
	PQclear(res);
	res = NULL;
	rc = rc ? rc : db_execp(db, daily_sql, 3, p, &res, err);
	if (!rc) {
		/* Every hour starts with its own hourly sum as its daily share;
		 * fill_daily moves each day's total onto the day's first hour. */
		for (int i = 0; i < r->nhours; i++)
			r->hours[i].daily = r->hours[i].hourly;
		fill_daily(r, res);
	}
	PQclear(res);
	res = NULL;
	rc = rc ? rc : db_execp(db, charts_sql, 3, p, &res, err);
	if (!rc) {
		r->chart_hourly_bad = val(res, 0, 0);
		r->chart_daily_bad = val(res, 0, 1);
		r->all_region_bad = val(res, 0, 2);
	}
	PQclear(res);
	res = NULL;
	rc = rc ? rc : db_execp(db, global_sql, 2, gp, &res, err);
	if (!rc) {
		r->dead_letters = val(res, 0, 0);
		r->api_live = (int)val(res, 0, 1);
		r->api_crashed = (int)val(res, 0, 2);
	}
	PQclear(res);
	res = NULL;
	rc =
	    rc ? rc
	       : db_execp(
	             db, "SELECT kafka_partition, next_offset FROM ingest_offsets WHERE topic = $1",
	             1, gp, &res, err);
	if (!rc)
		fill_lag(r, ends, res);
	PQclear(res);
	db_exec(db, rc ? "ROLLBACK" : "COMMIT", NULL);
	return rc;
}

static int apply_accepted(struct ledger_report *r, PGresult *acc, struct ts_err *err)
{
	for (int i = 0; i < r->nhours; i++)
		r->hours[i].accepted = 0;
	for (int i = 0; i < PQntuples(acc); i++) {
		struct ledger_hour *h =
		    ledger_hour_get(r, PQgetvalue(acc, i, 0), val(acc, i, 1) * 1000000);

		if (!h)
			return ts_err_set(err, TS_ETOOBIG, "more than %d (region, hour) rows",
			                  LEDGER_MAX_HOURS);
		h->accepted = val(acc, i, 2);
	}
	return 0;
}

static int check_range(const struct ledger_opts *o, struct ts_err *err)
{
	if (o->from_us >= o->to_us)
		return ts_err_set(err, TS_EINVAL, "the range is empty: from must be before to");
	if (o->to_us - o->from_us > LEDGER_MAX_RANGE_S * 1000000)
		return ts_err_set(err, TS_EINVAL, "the range is longer than 366 days");
	return 0;
}

static int by_hour(const void *a, const void *b)
{
	const struct ledger_hour *x = a, *y = b;

	if (x->hour_us != y->hour_us)
		return x->hour_us < y->hour_us ? -1 : 1;
	return strcmp(x->region, y->region);
}

static int has_lake_diff(const struct ledger_report *r)
{
	for (int i = 0; i < r->nhours; i++)
		for (int j = 0; j < r->hours[i].ndiffs; j++)
			if (!strncmp(r->hours[i].diffs[j].kind, "lake_", 5))
				return 1;
	return 0;
}

static int lake_ahead(const struct ledger_report *r)
{
	for (int i = 0; i < r->nhours; i++) {
		const struct ledger_hour *h = &r->hours[i];

		if (h->raw_lake > h->kafka || h->enriched_lake > h->enriched)
			return 1;
	}
	return 0;
}

/* Under live traffic ingest and enrich publish a file every second or so,
 * and a scan of a day's footers takes longer: the scan finds files
 * committed after the snapshot. The bookkeeping read again now says which
 * of those rows are known (in flight) and which no one committed (extra). */
static int read_later(struct db *db, const struct ledger_opts *o, struct ledger_report *r,
                      struct ts_err *err)
{
	char bufs[2][32];
	const char *p[3];
	PGresult *res = NULL;
	int rc;

	range_params(o, bufs, p);
	rc = db_execp(db, later_sql, 3, p, &res, err);
	for (int i = 0; !rc && i < PQntuples(res); i++) {
		struct ledger_hour *h =
		    ledger_hour_get(r, PQgetvalue(res, i, 0), val(res, i, 1) * 1000000);

		if (!h) {
			rc = ts_err_set(err, TS_ETOOBIG, "more than %d (region, hour) rows",
			                LEDGER_MAX_HOURS);
			break;
		}
		/* (an hour new since the scan has no lake rows: nothing to explain) */
		h->kafka_later = val(res, i, 2);
		h->enriched_later = val(res, i, 3);
	}
	PQclear(res);
	return rc;
}

/* One attempt: the api's counts, then Kafka's end offsets, then the
 * snapshot, then the lake — each read after what it is compared with, so
 * that what happens meanwhile shows as in flight, not as a loss. */
static int attempt(struct db *db, const struct ts_config *cfg, const struct ledger_opts *o,
                   struct ends *ends, struct ledger_report *r, struct ts_err *err)
{
	char bufs[2][32];
	const char *p[3];
	PGresult *acc = NULL;
	int rc;

	r->nhours = 0;
	r->cursor = 0;
	r->lake_checked = 0;
	r->generated_us = time_now_us();
	range_params(o, bufs, p);
	rc = db_execp(db, accepted_sql, 3, p, &acc, err);
	if (!rc)
		read_ends(o, ends);
	rc = rc ? rc : read_db(db, cfg, o, ends, r, err);
	rc = rc ? rc : apply_accepted(r, acc, err);
	PQclear(acc);
	if (!rc && o->check_lake) {
		long pause = failpoint_arg("ledger.scan-pause");

		if (pause > 0) /* tests: lets ingest publish after the snapshot */
			sleep((unsigned)pause);
		rc = ledger_lake_scan(cfg, o, r, err);
		r->lake_checked = !rc;
		if (!rc && lake_ahead(r))
			rc = read_later(db, o, r, err);
	}
	if (rc)
		return rc;
	qsort(r->hours, (size_t)r->nhours, sizeof(*r->hours), by_hour);
	ledger_classify(r);
	return 0;
}

int ledger_run(struct db *db, const struct ts_config *cfg, const struct ledger_opts *in,
               struct ledger_report **out, struct ts_err *err)
{
	struct ledger_opts o = *in;
	struct ledger_report *r = NULL;
	struct ends *ends = NULL;
	int rc;

	/* Whole hours: a partial hour's counts cannot be compared. */
	o.from_us -= ((o.from_us % HOUR_US) + HOUR_US) % HOUR_US;
	o.to_us += (HOUR_US - ((o.to_us % HOUR_US) + HOUR_US) % HOUR_US) % HOUR_US;
	rc = check_range(&o, err);
	if (rc)
		return rc;
	r = calloc(1, sizeof(*r));
	ends = calloc(1, sizeof(*ends));
	if (r)
		r->hours = calloc(LEDGER_MAX_HOURS, sizeof(*r->hours));
	if (!r || !r->hours || !ends) {
		free(ends);
		ledger_report_free(r);
		return ts_err_set(err, TS_ENOMEM, "out of memory");
	}
	r->from_us = o.from_us;
	r->to_us = o.to_us;
	snprintf(r->region, sizeof(r->region), "%s", o.region ? o.region : "");
	/* A file compacted away between the snapshot and the lake scan looks
	 * like a lake mismatch for a moment: look again before saying so. */
	for (int i = 0; i < 3; i++) {
		rc = attempt(db, cfg, &o, ends, r, err);
		if (rc || (!has_lake_diff(r) && !r->lake_vanished))
			break;
		usleep(200000);
	}
	free(ends);
	if (rc) {
		ledger_report_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

void ledger_report_free(struct ledger_report *r)
{
	if (!r)
		return;
	free(r->hours);
	free(r);
}
