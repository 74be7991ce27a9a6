/*
 * Flow `aggregate`: enriched/ -> plays_hourly -> top_songs_hourly and
 * top_songs_daily. Each batch (up to BATCH_FILES enriched files) is one
 * transaction:
 *
 *   1. take the aggregate lock, then the published enriched files not yet
 *      counted, and the advisory lock of each (region, day, hour) they touch
 *      (and of region ALL);
 *   2. count plays per song in each file — over the dictionary indices of
 *      the song_id column, so a page costs one counter per row — and sum
 *      them per (period, song), for the region and for ALL;
 *   3. COPY the sums straight into plays_hourly for periods it has no row
 *      of yet, add the others by upsert, and mark the files counted: counts
 *      and bookkeeping move together;
 *   4. recompute the top 10 of every touched hour and day from plays_hourly,
 *      then the chart facts of those periods and of every later period of
 *      the same regions (they depend on earlier ones), then is_final.
 *
 * The charts are a function of plays_hourly alone, and plays_hourly is the
 * sum of the counted files, each counted once; docs/flows.md has the
 * argument.
 */
#include "base/common.h"
#include "base/failpoint.h"
#include "base/log.h"
#include "base/progress.h"
#include "db/db.h"
#include "flow/flow_copy.h"
#include "flow/flow_counts.h"
#include "flow/flow_impl.h"
#include "flow/flow_lake.h"
#include "parquet/parquet_chunk.h"
#include "parquet/parquet_reader.h"
#include "store/store.h"

#define BATCH_N      1000
#define BATCH_FILES  "1000" /* BATCH_N, for the statement */
#define AGG_WORK_MEM "256MB"
/* (period, song) counts held in memory by one batch: 16 bytes each. */
#define AGG_ENTRIES_MAX (4u << 20)

struct agg {
	struct db *db;
	struct flow_lake lake;
	struct flow_stats *stats;
	struct dbuf buf;
	uint64_t *dict_counts; /* per dictionary index of one page batch */
	size_t ncounts;
	struct flow_counts counts; /* of the files of one transaction */
	int hours;                 /* (region, hour) partitions of the batch */
};

/* Step 1. */
static int pending_files(struct agg *a, const struct flow_args *args, PGresult **r,
                         struct ts_err *err)
{
	char bufs[2][32];
	const char *params[3];

	flow_range_params(args, bufs, params);
	return db_execp(a->db,
	                "SELECT path, region, day::text, hour, to_char((day + make_interval(hours "
	                "=> hour)), 'YYYY-MM-DD HH24:00:00+00') FROM flow_enriched_files WHERE "
	                "published AND NOT aggregated AND " FLOW_RANGE_SQL
	                " ORDER BY day, hour, region, path LIMIT " BATCH_FILES,
	                3, params, r, err);
}

static int lock_hours(struct agg *a, PGresult *files, struct ts_err *err)
{
	int rc = 0;

	a->hours = 0;
	for (int i = 0; !rc && i < PQntuples(files); i++) {
		int hour = (int)strtol(PQgetvalue(files, i, 3), NULL, 10);
		if (i && !strcmp(PQgetvalue(files, i, 1), PQgetvalue(files, i - 1, 1)) &&
		    !strcmp(PQgetvalue(files, i, 4), PQgetvalue(files, i - 1, 4)))
			continue;
		a->hours++;
		rc = flow_lock(a->db, "aggregate", PQgetvalue(files, i, 1), PQgetvalue(files, i, 2),
		               hour, err);
		rc = rc ? rc
		        : flow_lock(a->db, "aggregate", "ALL", PQgetvalue(files, i, 2), hour, err);
	}
	return rc;
}

/* One batch of song ids: dictionary indices are counted first. */
static int count_batch(struct agg *a, const struct parquet_batch *b, struct ts_err *err)
{
	const struct parquet_bytes *dict = b->dict, *v = b->values;
	int rc = 0;

	if (!b->indices) {
		for (size_t i = 0; !rc && i < b->n; i++)
			if (!b->valid || b->valid[i])
				rc = flow_counts_add(&a->counts, v[i].ptr, v[i].len, 1, err);
		return rc;
	}
	if (b->dict_n > a->ncounts) {
		uint64_t *n = realloc(a->dict_counts, b->dict_n * sizeof(*n));
		if (!n)
			return ts_err_set(err, TS_ENOMEM, "out of memory");
		a->dict_counts = n;
		a->ncounts = b->dict_n;
	}
	memset(a->dict_counts, 0, b->dict_n * sizeof(*a->dict_counts));
	for (size_t i = 0; i < b->n; i++)
		if (b->indices[i] < b->dict_n && (!b->valid || b->valid[i]))
			a->dict_counts[b->indices[i]]++;
	for (uint32_t k = 0; !rc && k < b->dict_n; k++)
		if (a->dict_counts[k])
			rc = flow_counts_add(&a->counts, dict[k].ptr, dict[k].len,
			                     a->dict_counts[k], err);
	return rc;
}

/* Step 2 for one file. */
static int count_file(struct agg *a, const char *key, const char *region, const char *hour_start,
                      struct ts_err *err)
{
	struct parquet_reader *r = NULL;
	struct parquet_chunk *ch = NULL;
	struct parquet_batch b;
	int rc = store_get(a->lake.store, key, FLOW_FILE_MAX, &a->buf, err), col = -1;

	rc = rc ? rc : flow_counts_file(&a->counts, region, hour_start, err);
	rc = rc ? rc : parquet_reader_open_mem(a->buf.buf, a->buf.len, key, &r, err);
	if (!rc && ((col = parquet_reader_column(r, "song_id")) < 0 ||
	            parquet_reader_footer(r)->cols[col].type != PARQUET_BYTE_ARRAY))
		rc = ts_err_set(err, TS_ECORRUPT, "%s: no song_id column of strings", key);
	for (int rg = 0; !rc && rg < parquet_reader_footer(r)->nrg; rg++) {
		rc = parquet_chunk_open(r, rg, col, &ch, err);
		while (!rc && !(rc = parquet_chunk_next(ch, PARQUET_BATCH_MAX, true, &b, err)) &&
		       b.n) {
			a->stats->rows_in += (int64_t)b.n;
			rc = count_batch(a, &b, err);
		}
		parquet_chunk_free(ch);
		ch = NULL;
	}
	parquet_reader_free(r);
	rc = rc ? rc : flow_counts_end_file(&a->counts, err);
	if (rc == TS_EINVAL)
		rc = TS_ECORRUPT;
	return rc;
}

/* The batch's (region, hour) periods, numbered in plays_hourly's key order;
 * old[g] gets whether period g has rows in plays_hourly already. */
static int copy_groups(struct agg *a, bool *old, struct ts_err *err)
{
	const struct flow_counts *k = &a->counts;
	struct flow_copy c;
	PGresult *r = NULL;
	int rc =
	    flow_copy_begin(a->db, "COPY agg_groups (g, region, hour_start) FROM STDIN", &c, err);

	if (rc)
		return rc;
	for (size_t i = 0; !rc && i < k->ngroups; i++) {
		rc = flow_copy_int(&c, (int64_t)i, err);
		rc = rc ? rc
		        : flow_copy_str(&c, k->groups[i].region, strlen(k->groups[i].region), err);
		rc = rc ? rc : flow_copy_str(&c, k->groups[i].hour, strlen(k->groups[i].hour), err);
		rc = rc ? rc : flow_copy_end_row(&c, err);
	}
	rc = rc ? (flow_copy_abort(&c), rc) : flow_copy_finish(&c, err);
	rc = rc ? rc
	        : db_execp(a->db,
	                   "SELECT g FROM agg_groups g WHERE EXISTS (SELECT 1 FROM plays_hourly p "
	                   "WHERE p.region = g.region AND p.hour_start = g.hour_start)",
	                   0, NULL, &r, err);
	for (int i = 0; !rc && i < PQntuples(r); i++) {
		long g = strtol(PQgetvalue(r, i, 0), NULL, 10);
		if (g >= 0 && (size_t)g < k->ngroups)
			old[g] = true;
	}
	PQclear(r);
	return rc;
}

/* The summed counts, one row per (period, song) in plays_hourly's key
 * order: straight into plays_hourly for periods that have no row there yet
 * (every period of a back-fill, a new hour when live), into agg_in for the
 * others, which add_counts adds by upsert. COPY into the table saves a pass
 * through a temporary one, and an upsert's speculative insertion costs 2.5
 * times a plain insert per row (docs/benchmarks.md). Only aggregate writes
 * plays_hourly, one batch at a time under its lock, so no row can appear in
 * a fresh period meanwhile. */
static int copy_counts(struct agg *a, struct ts_err *err)
{
	static const char *const sql[2] = {
	    "COPY plays_hourly (region, hour_start, song_id, plays) FROM STDIN",
	    "COPY agg_in (g, song_id, plays) FROM STDIN",
	};
	const struct flow_counts *k = &a->counts;
	bool *old = calloc(k->ngroups + 1, sizeof(*old));
	int rc = old ? copy_groups(a, old, err) : ts_err_set(err, TS_ENOMEM, "out of memory");

	for (int pass = 0; !rc && pass < 2; pass++) {
		struct flow_copy c;

		if ((rc = flow_copy_begin(a->db, sql[pass], &c, err)))
			break;
		for (size_t i = 0; !rc && i < k->nents; i++) {
			const struct flow_counts_song *s = &k->songs[k->ents[i].key & 0xffffffffu];
			uint32_t g = (uint32_t)(k->ents[i].key >> 32);
			if (old[g] != (pass == 1))
				continue;
			if (pass == 0) {
				rc = flow_copy_str(&c, k->groups[g].region,
				                   strlen(k->groups[g].region), err);
				rc = rc ? rc
				        : flow_copy_str(&c, k->groups[g].hour,
				                        strlen(k->groups[g].hour), err);
			} else {
				rc = flow_copy_int(&c, g, err);
			}
			rc = rc ? rc : flow_copy_str(&c, s->s, s->len, err);
			rc = rc ? rc : flow_copy_int(&c, (int64_t)k->ents[i].plays, err);
			rc = rc ? rc : flow_copy_end_row(&c, err);
		}
		if (!rc)
			a->stats->rows_out += c.rows;
		rc = rc ? (flow_copy_abort(&c), rc) : flow_copy_finish(&c, err);
	}
	free(old);
	return rc;
}

/* Counts files until the batch holds AGG_ENTRIES_MAX (period, song) counts;
 * *done says how many files were counted, the rest wait for the next batch. */
static int count_files(struct agg *a, PGresult *files, int *done, struct ts_err *err)
{
	int rc = db_exec(a->db,
	                 "CREATE TEMP TABLE agg_groups (g int PRIMARY KEY, region text, hour_start "
	                 "timestamptz) ON COMMIT DROP",
	                 err);

	rc = rc ? rc
	        : db_exec(
	              a->db,
	              "CREATE TEMP TABLE agg_in (g int, song_id text, plays bigint) ON COMMIT DROP",
	              err);
	flow_counts_release(&a->counts);
	flow_counts_init(&a->counts);
	*done = 0;
	for (int i = 0; !rc && i < PQntuples(files) && a->counts.nents < AGG_ENTRIES_MAX; i++) {
		rc = count_file(a, PQgetvalue(files, i, 0), PQgetvalue(files, i, 1),
		                PQgetvalue(files, i, 4), err);
		*done = i + 1;
	}
	rc = rc ? rc : flow_counts_sort(&a->counts, err);
	return rc ? rc : copy_counts(a, err);
}

/* Step 3: the counts of periods already in plays_hourly are added by upsert
 * (copy_counts wrote the others), and the files are marked counted. */
static int add_counts(struct agg *a, PGresult *files, int done, struct ts_err *err)
{
	int rc = db_exec(a->db, "ANALYZE agg_in, agg_groups", err);

	rc = rc ? rc
	        : db_exec(a->db,
	                  "INSERT INTO plays_hourly (region, hour_start, song_id, plays) SELECT "
	                  "g.region, g.hour_start, a.song_id, a.plays FROM agg_in a JOIN "
	                  "agg_groups g ON g.g = a.g ON CONFLICT (region, hour_start, song_id) DO "
	                  "UPDATE SET plays = plays_hourly.plays + EXCLUDED.plays",
	                  err);
	for (int i = 0; !rc && i < done; i++) {
		const char *p[] = {PQgetvalue(files, i, 0)};
		rc =
		    db_execp(a->db,
		             "UPDATE flow_enriched_files SET aggregated = true WHERE path = $1 AND "
		             "NOT aggregated",
		             1, p, NULL, err);
	}
	return rc;
}

/* Step 4: the statements, in order. Song ids are ranked in byte order
 * (COLLATE "C"), whatever the database's collation. */
static const char *const chart_sql[] = {
    "CREATE TEMP TABLE touched_h ON COMMIT DROP AS SELECT region, hour_start FROM agg_groups",
    "CREATE TEMP TABLE touched_d ON COMMIT DROP AS SELECT DISTINCT region, (hour_start AT TIME "
    "ZONE 'UTC')::date AS day FROM touched_h",
    /* Temporary tables have no statistics until analysed: without them the
     * planner picks nested loops over all of plays_hourly. */
    "ANALYZE touched_h, touched_d",
    "DELETE FROM top_songs_hourly t USING touched_h h WHERE t.region = h.region AND "
    "t.hour_start = h.hour_start",
    /* A bounded top-10 sort per period (LIMIT), not a rank over every song. */
    "INSERT INTO top_songs_hourly (region, hour_start, rank, song_id, title, artist, genre, "
    "plays, peak_rank, periods_on_chart) SELECT h.region, h.hour_start, r.rank, r.song_id, "
    "s.title, s.artist, s.genre, r.plays, r.rank, 1 FROM touched_h h CROSS JOIN LATERAL "
    "(SELECT t.song_id, t.plays, row_number() OVER (ORDER BY t.plays DESC, t.song_id COLLATE "
    "\"C\") AS rank FROM (SELECT p.song_id, p.plays FROM plays_hourly p WHERE p.region = "
    "h.region AND p.hour_start = h.hour_start ORDER BY p.plays DESC, p.song_id COLLATE \"C\" "
    "LIMIT 10) t) r LEFT JOIN songs s ON s.song_id = r.song_id",
    "DELETE FROM top_songs_daily t USING touched_d d WHERE t.region = d.region AND t.day = d.day",
    "INSERT INTO top_songs_daily (region, day, rank, song_id, title, artist, genre, plays, "
    "peak_rank, periods_on_chart) SELECT d.region, d.day, r.rank, r.song_id, s.title, s.artist, "
    "s.genre, r.plays, r.rank, 1 FROM touched_d d CROSS JOIN LATERAL (SELECT t.song_id, "
    "t.plays, row_number() OVER (ORDER BY t.plays DESC, t.song_id COLLATE \"C\") AS rank FROM "
    "(SELECT p.song_id, sum(p.plays) AS plays FROM plays_hourly p WHERE p.region = d.region "
    "AND p.hour_start >= d.day::timestamp AT TIME ZONE 'UTC' AND p.hour_start < (d.day + "
    "1)::timestamp AT TIME ZONE 'UTC' GROUP BY p.song_id ORDER BY sum(p.plays) DESC, p.song_id "
    "COLLATE "
    "\"C\" "
    "LIMIT 10) t) r LEFT JOIN songs s ON s.song_id = r.song_id",
    /* The facts of a row depend on the song's earlier rows of its region. */
    "WITH w AS (SELECT region, hour_start, rank, lag(hour_start) OVER s AS prev_at, lag(rank) "
    "OVER s AS prev_rank, min(rank) OVER s AS peak, count(*) OVER s AS n FROM top_songs_hourly "
    "WHERE region IN (SELECT region FROM touched_h) WINDOW s AS (PARTITION BY region, song_id "
    "ORDER BY hour_start ROWS UNBOUNDED PRECEDING)), f AS (SELECT region, hour_start, rank, "
    "CASE WHEN prev_at = hour_start - interval '1 hour' THEN prev_rank END AS previous_rank, "
    "peak, n, CASE WHEN prev_at IS NULL THEN 'NEW' WHEN prev_at <> hour_start - interval '1 "
    "hour' THEN 'RE-ENTRY' END AS entry FROM w WHERE hour_start >= (SELECT min(hour_start) FROM "
    "touched_h h WHERE h.region = w.region)) UPDATE top_songs_hourly t SET previous_rank = "
    "f.previous_rank, movement = f.previous_rank - t.rank, peak_rank = f.peak, "
    "periods_on_chart = f.n, entry = f.entry, updated_at = now() FROM f WHERE t.region = "
    "f.region AND t.hour_start = f.hour_start AND t.rank = f.rank AND (t.previous_rank IS "
    "DISTINCT FROM f.previous_rank OR t.movement IS DISTINCT FROM f.previous_rank - t.rank OR "
    "t.peak_rank <> f.peak OR t.periods_on_chart <> f.n OR t.entry IS DISTINCT FROM f.entry)",
    "WITH w AS (SELECT region, day, rank, lag(day) OVER s AS prev_at, lag(rank) OVER s AS "
    "prev_rank, min(rank) OVER s AS peak, count(*) OVER s AS n FROM top_songs_daily WHERE "
    "region IN (SELECT region FROM touched_d) WINDOW s AS (PARTITION BY region, song_id ORDER "
    "BY day ROWS UNBOUNDED PRECEDING)), f AS (SELECT region, day, rank, CASE WHEN prev_at = day "
    "- 1 THEN prev_rank END AS previous_rank, peak, n, CASE WHEN prev_at IS NULL THEN 'NEW' "
    "WHEN prev_at <> day - 1 THEN 'RE-ENTRY' END AS entry FROM w WHERE day >= (SELECT min(day) "
    "FROM touched_d d WHERE d.region = w.region)) UPDATE top_songs_daily t SET previous_rank = "
    "f.previous_rank, movement = f.previous_rank - t.rank, peak_rank = f.peak, "
    "periods_on_chart = f.n, entry = f.entry, updated_at = now() FROM f WHERE t.region = "
    "f.region AND t.day = f.day AND t.rank = f.rank AND (t.previous_rank IS DISTINCT FROM "
    "f.previous_rank OR t.movement IS DISTINCT FROM f.previous_rank - t.rank OR t.peak_rank <> "
    "f.peak OR t.periods_on_chart <> f.n OR t.entry IS DISTINCT FROM f.entry)",
};

/* An hour (of a region, or of every region for ALL) is final once the lake
 * has closed it and every file committed for it so far is counted. A day is
 * final once all its hours are and an hour after its end has closed. */
#define OPEN_HOUR_SQL(REG, DAY, HOUR)                                                              \
	"(EXISTS (SELECT 1 FROM lake_hours l WHERE (l.region = " REG " OR " REG " = 'ALL') AND "   \
	"l.day = " DAY " AND l.hour " HOUR " AND l.closed_at IS NULL) OR EXISTS (SELECT 1 FROM "   \
	"ingest_files f WHERE (f.region = " REG " OR " REG " = 'ALL') AND f.day = " DAY " AND "    \
	"f.hour " HOUR " AND NOT EXISTS (SELECT 1 FROM flow_enrich_inputs i WHERE i.raw_path = "   \
	"f.path)) OR EXISTS (SELECT 1 FROM flow_enriched_files e WHERE (e.region = " REG           \
	" OR " REG " = 'ALL') AND e.day = " DAY " AND e.hour " HOUR " AND NOT e.aggregated))"

static const char *const final_sql[] = {
    "UPDATE top_songs_hourly t SET is_final = true, updated_at = now() FROM (SELECT DISTINCT "
    "region, hour_start, (hour_start AT TIME ZONE 'UTC')::date AS day, extract(hour FROM "
    "hour_start AT TIME ZONE 'UTC')::int AS hour FROM top_songs_hourly WHERE NOT is_final) c "
    "WHERE t.region = c.region AND t.hour_start = c.hour_start AND EXISTS (SELECT 1 FROM "
    "lake_hours l WHERE l.closed_at IS NOT NULL AND l.day = c.day AND l.hour = c.hour) AND NOT "
    "" OPEN_HOUR_SQL("c.region", "c.day", "= c.hour"),
    "UPDATE top_songs_daily t SET is_final = true, updated_at = now() FROM (SELECT DISTINCT "
    "region, day FROM top_songs_daily WHERE NOT is_final) c WHERE t.region = c.region AND t.day "
    "= c.day AND EXISTS (SELECT 1 FROM lake_hours l WHERE l.closed_at IS NOT NULL AND l.day > "
    "c.day) AND NOT " OPEN_HOUR_SQL("c.region", "c.day", ">= 0"),
};

static int charts(struct agg *a, struct ts_err *err)
{
	int rc = 0;

	for (size_t i = 0; !rc && i < ARRAY_SIZE(chart_sql); i++)
		rc = db_exec(a->db, chart_sql[i], err);
	return rc ? ts_err_wrap(err, "charts") : 0;
}

static int finality(struct agg *a, struct ts_err *err)
{
	int rc = 0;

	for (size_t i = 0; !rc && i < ARRAY_SIZE(final_sql); i++)
		rc = db_exec(a->db, final_sql[i], err);
	return rc ? ts_err_wrap(err, "is_final") : 0;
}

/* One batch; *more says whether it was full. */
static int batch(struct agg *a, const struct flow_args *args, int *more, struct ts_err *err)
{
	PGresult *files = NULL;
	int rc = db_exec(a->db, "BEGIN", err), n = 0, done = 0;

	*more = 0;
	/* The counts of a back-fill batch are sorted and grouped in memory, not in
	 * temporary files (the default 4 MB spills a batch of a million rows). */
	rc = rc ? rc : db_exec(a->db, "SET LOCAL work_mem = '" AGG_WORK_MEM "'", err);
	rc = rc ? rc
	        : db_exec(a->db,
	                  "SELECT pg_advisory_xact_lock(hashtext('topsongs.flow:aggregate'))", err);
	rc = rc ? rc : pending_files(a, args, &files, err);
	n = rc ? 0 : PQntuples(files);
	rc = rc || !n ? rc : lock_hours(a, files, err);
	rc = rc || !n ? rc : count_files(a, files, &done, err);
	rc = rc || !n ? rc : add_counts(a, files, done, err);
	if (!rc && n)
		failpoint("aggregate.counted");
	rc = rc || !n ? rc : charts(a, err);
	rc = rc ? rc : finality(a, err);
	rc = rc ? rc : db_exec(a->db, "COMMIT", err);
	if (rc) {
		db_exec(a->db, "ROLLBACK", NULL);
	} else if (n) {
		failpoint("aggregate.committed");
		a->stats->partitions += a->hours;
		*more = n == BATCH_N || done < n;
		log_info("aggregated", "files=%d", done);
	}
	PQclear(files);
	return rc;
}

int flow_aggregate_run(struct db *db, const struct flow_args *args, struct flow_stats *stats,
                       struct ts_err *err)
{
	struct agg a = {.db = db, .stats = stats};
	struct progress pg;
	int rc, more = 1;

	flow_counts_init(&a.counts);
	rc = flow_lake_open(args->cfg, &a.lake, err);

	dbuf_init(&a.buf, FLOW_FILE_MAX);
	progress_begin(&pg, "aggregate", 0); /* batches of files: the total is unknown */
	while (!rc && more) {
		rc = batch(&a, args, &more, err);
		progress_update(&pg, (uint64_t)stats->rows_in, "rows counted");
	}
	progress_end(&pg);
	if (rc)
		ts_err_wrap(err, "aggregate");
	free(a.dict_counts);
	flow_counts_release(&a.counts);
	dbuf_release(&a.buf);
	flow_lake_close(&a.lake);
	return rc;
}
