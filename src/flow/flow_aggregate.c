/*
 * Flow `aggregate`: enriched/ -> plays_hourly -> top_songs_hourly and
 * top_songs_daily. Each batch (up to BATCH_FILES enriched files) is one
 * transaction:
 *
 *   1. take the aggregate lock, then the published enriched files not yet
 *      counted with the advisory lock of each (region, day, hour) they
 *      touch (and of region ALL);
 *   2. count plays per song in each file — over the dictionary indices of
 *      the song_id column, so a page costs one counter per row — and sum
 *      them per (period, song), for the region and for ALL;
 *   3. COPY the sums, packed one row per period, into plays_hourly_packed
 *      for periods it has no row of yet, ranking their charts from the same
 *      sums; merge the others into their rows, and mark the files counted:
 *      counts and bookkeeping move together;
 *   4. write the charts ranked in step 3 and rank the other touched hours
 *      and days from plays_hourly (the view that unpacks
 *      plays_hourly_packed), each row inserted with its chart facts and
 *      is_final; then the facts of later periods of the same regions (they
 *      depend on earlier ones), and is_final of periods closed since.
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
/* The end of an S3 object read for its footer: an enriched file's footer
 * is about 3 KB per row group. A longer one costs a read of the whole
 * object. */
#define AGG_FOOTER_TAIL (16u << 10)

struct agg {
	struct db *db;
	struct flow_lake lake;
	struct flow_stats *stats;
	struct dbuf buf;       /* an S3 object's end, or the whole object */
	const char *key;       /* of the file being read (fetch_range) */
	uint64_t *dict_counts; /* per index of dict, the current chunk's dictionary */
	size_t ncounts;
	const void *dict; /* NULL when no play is waiting in dict_counts */
	uint32_t dict_n;
	struct flow_counts counts; /* of the files of one transaction */
	size_t max_counts;         /* flows.aggregate-max-counts */
	int hours;                 /* (region, hour) partitions of the batch */
	struct period *periods;    /* of the batch's files, in their order */
	size_t nperiods;
	uint32_t *cmap; /* counts' group index -> period, as groups are made */
	size_t ncmap;
	struct chart *charts; /* ranked here, for agg_top */
	size_t ncharts, capcharts;
	struct dbuf elems;  /* each song formatted as an array element, once */
	uint32_t *elem_off; /* song i's element: elems[elem_off[i], elem_off[i + 1]) */
	size_t nelems;      /* songs formatted */
	uint32_t *order;    /* entries of a window, by group (bucket) */
	uint32_t *gstart;   /* group g - gfrom's entries: order[gstart[g], gstart[g + 1]) */
	size_t norder, ngstart;
	uint64_t *dense; /* per song: one period's or day's plays, else 0 */
	uint32_t *seen;  /* songs with dense[] != 0 */
	size_t ndense;
};

/* A (region, hour) of the batch, or (ALL, hour); agg_groups.g is its index.
 * old: it has a row in plays_hourly_packed already; day_old: some hour of
 * its region's day has. */
struct period {
	const char *region, *hour; /* the files' strings, or "ALL" */
	bool old, day_old;
};

/* A chart ranked in C: of the period, or of its region's UTC day. */
struct chart {
	uint32_t period;
	bool daily;
	struct flow_top top;
};

/* Step 1: the files, and the advisory lock of each (region, day, hour)
 * they touch and of (ALL, day, hour), in the same statement (one round trip
 * where a back-fill took hundreds; the keys are flow_lock's). */
static int pending_files(struct agg *a, const struct flow_args *args, PGresult **r,
                         struct ts_err *err)
{
	char bufs[2][32];
	const char *params[3];
	int rc;

	flow_range_params(args, bufs, params);
	rc = db_execp(
	    a->db,
	    "WITH f AS MATERIALIZED (SELECT path, region, day, hour FROM flow_enriched_files WHERE "
	    "published AND NOT aggregated AND " FLOW_RANGE_SQL
	    " ORDER BY day, hour, region, path LIMIT " BATCH_FILES "), l AS MATERIALIZED (SELECT "
	    "count(pg_advisory_xact_lock(hashtext('topsongs.flow:aggregate:' || r || ':' || "
	    "d::text || ':' || h))) FROM (SELECT region AS r, day AS d, hour AS h FROM f UNION "
	    "SELECT 'ALL', day, hour FROM f) x) SELECT path, region, day::text, hour, "
	    "to_char((day + make_interval(hours => hour)), 'YYYY-MM-DD HH24:00:00+00') FROM f, l "
	    "ORDER BY day, hour, region, path",
	    3, params, r, err);
	a->hours = 0;
	for (int i = 0; !rc && i < PQntuples(*r); i++)
		if (!i || strcmp(PQgetvalue(*r, i, 1), PQgetvalue(*r, i - 1, 1)) ||
		    strcmp(PQgetvalue(*r, i, 4), PQgetvalue(*r, i - 1, 4)))
			a->hours++;
	return rc;
}

/* Plays per dictionary index of the current chunk go into flow_counts: one
 * song lookup per distinct song of a chunk, not per page or per play. */
static int flush_dict(struct agg *a, struct ts_err *err)
{
	const struct parquet_bytes *dict = a->dict;
	int rc = 0;

	for (uint32_t k = 0; !rc && k < a->dict_n; k++)
		if (a->dict_counts[k])
			rc = flow_counts_add(&a->counts, dict[k].ptr, dict[k].len,
			                     a->dict_counts[k], err);
	a->dict = NULL;
	a->dict_n = 0;
	return rc;
}

/* One batch of song ids: dictionary indices are counted per index, summed
 * over the chunk's pages (they share its one dictionary) until flush_dict. */
static int count_batch(struct agg *a, const struct parquet_batch *b, struct ts_err *err)
{
	const struct parquet_bytes *v = b->values;
	int rc = 0;

	if (!b->indices) {
		for (size_t i = 0; !rc && i < b->n; i++)
			if (!b->valid || b->valid[i])
				rc = flow_counts_add(&a->counts, v[i].ptr, v[i].len, 1, err);
		return rc;
	}
	if ((b->dict != a->dict || b->dict_n != a->dict_n) && (rc = flush_dict(a, err)))
		return rc;
	if (b->dict_n > a->ncounts) {
		uint64_t *n = realloc(a->dict_counts, b->dict_n * sizeof(*n));
		if (!n)
			return ts_err_set(err, TS_ENOMEM, "out of memory");
		a->dict_counts = n;
		a->ncounts = b->dict_n;
	}
	if (!a->dict) {
		memset(a->dict_counts, 0, b->dict_n * sizeof(*a->dict_counts));
		a->dict = b->dict;
		a->dict_n = b->dict_n;
	}
	for (size_t i = 0; i < b->n; i++)
		if (b->indices[i] < b->dict_n && (!b->valid || b->valid[i]))
			a->dict_counts[b->indices[i]]++;
	return 0;
}

/* Ranges of the file being counted on S3 (parquet_reader_set_fetch). */
static int fetch_range(void *ctx, uint64_t off, size_t len, void *dst, struct ts_err *err)
{
	struct agg *a = ctx;

	return store_get_range(a->lake.store, a->key, off, len, dst, err);
}

/* Opens the file at key for its footer and song_id chunks, reading no
 * more than those: in a local lake from the file; on S3 one ranged GET of
 * the object's end (the footer) and one per chunk — or the whole object
 * when the footer is longer than AGG_FOOTER_TAIL. */
static int open_file(struct agg *a, const char *key, struct parquet_reader **r, struct ts_err *err)
{
	char path[4096 + FLOW_KEY_MAX + 2];
	uint64_t size = 0;
	int rc;

	if (a->lake.root) {
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", a->lake.root, key) >=
		    sizeof(path))
			return ts_err_set(err, TS_EINVAL, "%s: path too long", key);
		return parquet_reader_open_file(path, r, err);
	}
	rc = store_get_tail(a->lake.store, key, AGG_FOOTER_TAIL, &a->buf, &size, err);
	/* The size is the server's word, and the chunk ranges fetch_range
	 * reads are checked against it: over FLOW_FILE_MAX, the whole-object
	 * read below refuses the object, allocating nothing. */
	if (!rc && size > FLOW_FILE_MAX)
		rc = TS_ETOOBIG;
	rc = rc ? rc : parquet_reader_open_tail(a->buf.buf, a->buf.len, size, key, r, err);
	if (rc == TS_ETOOBIG) {
		ts_err_clear(err);
		rc = store_get(a->lake.store, key, FLOW_FILE_MAX, &a->buf, err);
		return rc ? rc : parquet_reader_open_mem(a->buf.buf, a->buf.len, key, r, err);
	}
	if (!rc) {
		a->key = key;
		parquet_reader_set_fetch(*r, fetch_range, a);
	}
	return rc;
}

/* Step 2 for one file. */
static int count_file(struct agg *a, const char *key, const char *region, const char *hour_start,
                      struct ts_err *err)
{
	struct parquet_reader *r = NULL;
	struct parquet_chunk *ch = NULL;
	struct parquet_batch b;
	int rc = flow_counts_file(&a->counts, region, hour_start, err), col = -1;

	rc = rc ? rc : open_file(a, key, &r, err);
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
		/* Before the chunk that owns the dictionary is freed. */
		rc = rc ? rc : flush_dict(a, err);
		parquet_chunk_free(ch);
		ch = NULL;
	}
	a->dict = NULL;
	a->dict_n = 0;
	parquet_reader_free(r);
	rc = rc ? rc : flow_counts_end_file(&a->counts, err);
	if (rc == TS_EINVAL)
		rc = TS_ECORRUPT;
	return rc;
}

static int period_of(struct agg *a, const char *region, const char *hour, uint32_t *p,
                     struct ts_err *err)
{
	struct period *n;

	/* Newest first: the files come ordered by hour. */
	for (size_t i = a->nperiods; i-- > 0;)
		if (!strcmp(a->periods[i].region, region) && !strcmp(a->periods[i].hour, hour)) {
			*p = (uint32_t)i;
			return 0;
		}
	n = realloc(a->periods, (a->nperiods + 1) * sizeof(*n));
	if (!n)
		return ts_err_set(err, TS_ENOMEM, "out of memory");
	a->periods = n;
	a->periods[a->nperiods] = (struct period){.region = region, .hour = hour};
	*p = (uint32_t)a->nperiods++;
	return 0;
}

/* The periods of the batch's files, into agg_groups, and which of them (and
 * of their days) have counts in plays_hourly_packed already. */
static int copy_groups(struct agg *a, PGresult *files, struct ts_err *err)
{
	struct flow_copy c;
	PGresult *r = NULL;
	uint32_t p;
	int rc = 0;

	a->nperiods = 0;
	for (int i = 0; !rc && i < PQntuples(files); i++) {
		rc = period_of(a, PQgetvalue(files, i, 1), PQgetvalue(files, i, 4), &p, err);
		rc = rc ? rc : period_of(a, "ALL", PQgetvalue(files, i, 4), &p, err);
	}
	rc = rc ? rc
	        : flow_copy_begin(a->db, "COPY agg_groups (g, region, hour_start) FROM STDIN", &c,
	                          err);
	if (rc)
		return rc;
	for (size_t i = 0; !rc && i < a->nperiods; i++) {
		const struct period *q = &a->periods[i];
		rc = flow_copy_int(&c, (int64_t)i, err);
		rc = rc ? rc : flow_copy_str(&c, q->region, strlen(q->region), err);
		rc = rc ? rc : flow_copy_str(&c, q->hour, strlen(q->hour), err);
		rc = rc ? rc : flow_copy_end_row(&c, err);
	}
	rc = rc ? (flow_copy_abort(&c), rc) : flow_copy_finish(&c, err);
	rc = rc ? rc
	        : db_execp(
	              a->db,
	              "UPDATE agg_groups g SET old = EXISTS (SELECT 1 FROM plays_hourly_packed "
	              "p WHERE p.region = g.region AND p.hour_start = g.hour_start), day_old = "
	              "EXISTS (SELECT 1 FROM plays_hourly_packed p WHERE p.region = g.region "
	              "AND p.hour_start >= ((g.hour_start AT TIME ZONE 'UTC')::date)::timestamp "
	              "AT TIME ZONE 'UTC' AND p.hour_start < ((g.hour_start AT TIME ZONE "
	              "'UTC')::date + 1)::timestamp AT TIME ZONE 'UTC') RETURNING g, old, "
	              "day_old",
	              0, NULL, &r, err);
	for (int i = 0; !rc && i < PQntuples(r); i++) {
		long g = strtol(PQgetvalue(r, i, 0), NULL, 10);
		if (g >= 0 && (size_t)g < a->nperiods) {
			a->periods[g].old = PQgetvalue(r, i, 1)[0] == 't';
			a->periods[g].day_old = PQgetvalue(r, i, 2)[0] == 't';
		}
	}
	PQclear(r);
	return rc;
}

/* Remembers which period the counts' group of the current file is. */
static int map_groups(struct agg *a, const char *region, const char *hour, struct ts_err *err)
{
	const struct flow_counts *k = &a->counts;
	uint32_t pr, pa;
	int rc = period_of(a, region, hour, &pr, err);

	rc = rc ? rc : period_of(a, "ALL", hour, &pa, err);
	if (!rc && k->ngroups > a->ncmap) {
		uint32_t *m = realloc(a->cmap, k->ngroups * 2 * sizeof(*m));
		if (!m)
			return ts_err_set(err, TS_ENOMEM, "out of memory");
		a->cmap = m;
		a->ncmap = k->ngroups * 2;
	}
	if (!rc) {
		a->cmap[k->group] = pr;
		a->cmap[k->all] = pa;
	}
	return rc;
}

/* Makes dense[] and seen[] hold every song counted so far. */
static int grow_scratch(struct agg *a, struct ts_err *err)
{
	size_t n = a->counts.nsongs;
	uint64_t *d;
	uint32_t *s;

	if (n <= a->ndense)
		return 0;
	if (!(d = realloc(a->dense, n * sizeof(*d))))
		return ts_err_set(err, TS_ENOMEM, "out of memory counting plays");
	a->dense = d;
	if (!(s = realloc(a->seen, n * sizeof(*s))))
		return ts_err_set(err, TS_ENOMEM, "out of memory counting plays");
	a->seen = s;
	memset(d + a->ndense, 0, (n - a->ndense) * sizeof(*d));
	a->ndense = n;
	return 0;
}

/* Formats the songs interned since the last call as array elements. */
static int format_songs(struct agg *a, struct ts_err *err)
{
	const struct flow_counts *k = &a->counts;
	uint32_t *o;

	if (k->nsongs <= a->nelems)
		return 0;
	if (!(o = realloc(a->elem_off, (k->nsongs + 1) * sizeof(*o))))
		return ts_err_set(err, TS_ENOMEM, "out of memory formatting song ids");
	a->elem_off = o;
	for (size_t i = a->nelems; i < k->nsongs; i++) {
		o[i] = (uint32_t)a->elems.len;
		if (flow_copy_format_elem(&a->elems, k->songs[i].s, k->songs[i].len))
			return ts_err_set(err, TS_ETOOBIG, "song ids over %zu bytes", a->elems.max);
	}
	o[k->nsongs] = (uint32_t)a->elems.len;
	a->nelems = k->nsongs;
	return 0;
}

/* Orders the entries [from, nents) of groups [gfrom, ngroups) by group
 * (a counting sort of their indices): one pass per window instead of one
 * per group. */
static int bucket(struct agg *a, size_t from, size_t gfrom, struct ts_err *err)
{
	const struct flow_counts *k = &a->counts;
	size_t n = k->nents - from, ng = k->ngroups - gfrom;

	if (n > a->norder) {
		uint32_t *o = realloc(a->order, n * sizeof(*o));
		if (!o)
			return ts_err_set(err, TS_ENOMEM, "out of memory");
		a->order = o;
		a->norder = n;
	}
	if (ng + 1 > a->ngstart) {
		uint32_t *g = realloc(a->gstart, (ng + 1) * sizeof(*g));
		if (!g)
			return ts_err_set(err, TS_ENOMEM, "out of memory");
		a->gstart = g;
		a->ngstart = ng + 1;
	}
	memset(a->gstart, 0, (ng + 1) * sizeof(*a->gstart));
	for (size_t i = from; i < k->nents; i++)
		a->gstart[(k->ents[i].key >> 32) - gfrom + 1]++;
	for (size_t g = 0; g < ng; g++)
		a->gstart[g + 1] += a->gstart[g];
	/* Each group's next free place: gstart[g] moves up to the next
	 * group's start, then is moved back. */
	for (size_t i = from; i < k->nents; i++)
		a->order[a->gstart[(k->ents[i].key >> 32) - gfrom]++] = (uint32_t)i;
	memmove(a->gstart + 1, a->gstart, ng * sizeof(*a->gstart));
	a->gstart[0] = 0;
	return 0;
}

/* Adds the entries of bucket gi (group gfrom + gi) into dense[], listing
 * in seen[] each song not there before, after the *n listed already. */
static void sum_bucket(struct agg *a, size_t gi, size_t *n)
{
	const struct flow_counts *k = &a->counts;

	for (uint32_t j = a->gstart[gi]; j < a->gstart[gi + 1]; j++) {
		const struct flow_counts_ent *e = &k->ents[a->order[j]];
		uint32_t song = (uint32_t)(e->key & 0xffffffffu);
		if (!a->dense[song]) /* counts are never 0 */
			a->seen[(*n)++] = song;
		a->dense[song] += e->plays;
	}
}

/* Ranks the n songs of seen[] by their dense[] plays into t, and sets
 * those dense[] back to 0. */
static void rank_seen(struct agg *a, size_t n, struct flow_top *t)
{
	for (size_t j = 0; j < n; j++) {
		flow_top_offer(t, a->counts.songs, a->seen[j], a->dense[a->seen[j]]);
		a->dense[a->seen[j]] = 0;
	}
}

/* Remembers a chart ranked here, for copy_rest. */
static int keep_chart(struct agg *a, uint32_t period, bool daily, const struct flow_top *t,
                      struct ts_err *err)
{
	if (a->ncharts == a->capcharts) {
		size_t cap = a->capcharts ? a->capcharts * 2 : 256;
		struct chart *n = realloc(a->charts, cap * sizeof(*n));
		if (!n)
			return ts_err_set(err, TS_ENOMEM, "out of memory ranking charts");
		a->charts = n;
		a->capcharts = cap;
	}
	a->charts[a->ncharts++] = (struct chart){period, daily, *t};
	return 0;
}

/* One hour's files are counted (entries [from, nents) of groups [gfrom,
 * ngroups)): each of its periods with no row yet goes into the COPY of
 * plays_hourly_packed now, summed per song, while the next hour is read —
 * PostgreSQL parses one hour's arrays as the next is counted — and its
 * chart is ranked, since the batch holds every count of it. Songs come in
 * the order first seen; the order within a row means nothing. */
static int copy_window(struct agg *a, struct flow_copy *c, size_t from, size_t gfrom,
                       struct ts_err *err)
{
	const struct flow_counts *k = &a->counts;
	int rc = grow_scratch(a, err);
	uint64_t *d = a->dense;
	uint32_t *s = a->seen;

	rc = rc ? rc : format_songs(a, err);
	rc = rc ? rc : bucket(a, from, gfrom, err);
	for (size_t g = gfrom; !rc && g < k->ngroups; g++) {
		const struct period *p = &a->periods[a->cmap[g]];
		struct flow_top top = {0};
		size_t n = 0;

		if (p->old)
			continue;
		sum_bucket(a, g - gfrom, &n);
		if (!n) /* a file without rows: no counts, no row */
			continue;
		a->stats->rows_out += (int64_t)n;
		rc = flow_copy_str(c, p->region, strlen(p->region), err);
		rc = rc ? rc : flow_copy_str(c, p->hour, strlen(p->hour), err);
		rc = rc ? rc : flow_copy_array_begin(c, err);
		for (size_t j = 0; !rc && j < n; j++)
			rc = flow_copy_elem_raw(c, (const char *)a->elems.buf + a->elem_off[s[j]],
			                        a->elem_off[s[j] + 1] - a->elem_off[s[j]], err);
		rc = rc ? rc : flow_copy_array_end(c, err);
		rc = rc ? rc : flow_copy_array_begin(c, err);
		for (size_t j = 0; !rc && j < n; j++)
			rc = flow_copy_elem_int(c, (int64_t)d[s[j]], err);
		rc = rc ? rc : flow_copy_array_end(c, err);
		rc = rc ? rc : flow_copy_end_row(c, err);
		rank_seen(a, n, &top);
		rc = rc ? rc : keep_chart(a, a->cmap[g], false, &top, err);
	}
	return rc;
}

/* One UTC day's files are counted (entries [from, nents) of groups [gfrom,
 * ngroups); the files come ordered by day): the chart of each of its
 * (region, day)s none of whose hours had counts before is ranked, from the
 * batch's counts alone. A day the batch holds only part of (a batch cut by
 * flows.aggregate-max-counts) is ranked again, in SQL, by the next batch,
 * which finds its hours' rows (day_old). */
static int rank_days(struct agg *a, size_t from, size_t gfrom, struct ts_err *err)
{
	const struct flow_counts *k = &a->counts;
	size_t ng = k->ngroups - gfrom;
	uint32_t *slot = malloc((ng ? ng : 1) * sizeof(*slot)), *first = NULL;
	uint32_t nslots = 0;
	int rc = slot ? grow_scratch(a, err) : ts_err_set(err, TS_ENOMEM, "out of memory");

	/* slot[g - gfrom]: the g's region among the day's, UINT32_MAX to skip. */
	if (!rc && !(first = malloc((ng ? ng : 1) * sizeof(*first))))
		rc = ts_err_set(err, TS_ENOMEM, "out of memory");
	for (size_t g = gfrom; !rc && g < k->ngroups; g++) {
		const struct period *p = &a->periods[a->cmap[g]];
		uint32_t j = 0;

		while (j < nslots && strcmp(a->periods[first[j]].region, p->region))
			j++;
		if (j == nslots)
			first[nslots++] = a->cmap[g];
		slot[g - gfrom] = p->day_old ? UINT32_MAX : j;
	}
	rc = rc ? rc : bucket(a, from, gfrom, err);
	for (uint32_t j = 0; !rc && j < nslots; j++) {
		struct flow_top top = {0};
		size_t n = 0;

		for (size_t g = 0; g < ng; g++)
			if (slot[g] == j)
				sum_bucket(a, g, &n);
		rank_seen(a, n, &top);
		if (n)
			rc = keep_chart(a, first[j], true, &top, err);
	}
	free(slot);
	free(first);
	return rc;
}

/* One chart of agg_top: an hour's (day NULL) or a day's (hour NULL). */
static int copy_top(struct flow_copy *c, const struct flow_counts *k, const struct period *p,
                    bool daily, const struct flow_top *t, struct ts_err *err)
{
	int rc = 0;

	for (int r = 0; !rc && r < t->n; r++) {
		const struct flow_counts_song *s = &k->songs[t->song[r]];
		rc = flow_copy_str(c, p->region, strlen(p->region), err);
		rc = rc      ? rc
		     : daily ? flow_copy_null(c, err)
		             : flow_copy_str(c, p->hour, strlen(p->hour), err);
		/* The hour as the aggregate writes it starts with its UTC date. */
		rc = rc ? rc : daily ? flow_copy_str(c, p->hour, 10, err) : flow_copy_null(c, err);
		rc = rc ? rc : flow_copy_int(c, r + 1, err);
		rc = rc ? rc : flow_copy_str(c, s->s, s->len, err);
		rc = rc ? rc : flow_copy_int(c, (int64_t)t->plays[r], err);
		rc = rc ? rc : flow_copy_end_row(c, err);
	}
	return rc;
}

/* After counting: the counts of the periods that have a row already into
 * agg_in, which add_counts merges (their charts are ranked in SQL from the
 * merged rows, chart_sql, in the same order as flow_top_offer); the charts
 * ranked here into agg_top. */
static int copy_rest(struct agg *a, struct ts_err *err)
{
	const struct flow_counts *k = &a->counts;
	struct flow_copy c;
	int rc = flow_copy_begin(a->db, "COPY agg_in (g, song_id, plays) FROM STDIN", &c, err);

	if (rc)
		return rc;
	for (size_t i = 0; !rc && i < k->nents; i++) {
		uint32_t g = a->cmap[k->ents[i].key >> 32];
		const struct flow_counts_song *s = &k->songs[k->ents[i].key & 0xffffffffu];
		if (!a->periods[g].old)
			continue;
		a->stats->rows_out++;
		rc = flow_copy_int(&c, g, err);
		rc = rc ? rc : flow_copy_str(&c, s->s, s->len, err);
		rc = rc ? rc : flow_copy_int(&c, (int64_t)k->ents[i].plays, err);
		rc = rc ? rc : flow_copy_end_row(&c, err);
	}
	rc = rc ? (flow_copy_abort(&c), rc) : flow_copy_finish(&c, err);
	rc = rc ? rc
	        : flow_copy_begin(a->db,
	                          "COPY agg_top (region, hour_start, day, rank, song_id, plays) "
	                          "FROM STDIN",
	                          &c, err);
	if (rc)
		return rc;
	for (size_t i = 0; !rc && i < a->ncharts; i++) {
		const struct chart *t = &a->charts[i];
		rc = copy_top(&c, k, &a->periods[t->period], t->daily, &t->top, err);
	}
	return rc ? (flow_copy_abort(&c), rc) : flow_copy_finish(&c, err);
}

/* Steps 2 and 3, but the merge: counts the files, hour by hour, until the
 * batch holds flows.aggregate-max-counts (period, song) counts (*done says
 * how many files were counted, the rest wait for the next batch), streaming
 * each hour's new periods into plays_hourly_packed and ranking their charts
 * (copy_window), and each day's charts when its last file is counted
 * (rank_days); then the rest (copy_rest). A period with no row in
 * plays_hourly_packed yet (every period of a back-fill, a new hour when
 * live) gets its row by COPY; only aggregate writes plays_hourly_packed,
 * one batch at a time under its lock, so no row can appear for it
 * meanwhile. */
static int count_files(struct agg *a, PGresult *files, int *done, struct ts_err *err)
{
	static const char *const temp_sql[] = {
	    "CREATE TEMP TABLE agg_groups (g int PRIMARY KEY, region text, hour_start timestamptz, "
	    "old boolean, day_old boolean) ON COMMIT DROP",
	    "CREATE TEMP TABLE agg_in (g int, song_id text, plays bigint) ON COMMIT DROP",
	    "CREATE TEMP TABLE agg_top (region text, hour_start timestamptz, day date, rank int, "
	    "song_id text, plays bigint) ON COMMIT DROP",
	    "CREATE TEMP TABLE agg_files (path text) ON COMMIT DROP",
	};
	const struct flow_counts *k = &a->counts;
	size_t from = 0, gfrom = 0, dfrom = 0, gdfrom = 0, counted = 0;
	struct flow_copy c;
	int rc = 0, n = PQntuples(files);

	for (size_t i = 0; !rc && i < ARRAY_SIZE(temp_sql); i++)
		rc = db_exec(a->db, temp_sql[i], err);
	flow_counts_release(&a->counts);
	flow_counts_init(&a->counts);
	a->ncharts = 0;
	a->nelems = 0;
	dbuf_reset(&a->elems);
	*done = 0;
	rc = rc ? rc : copy_groups(a, files, err);
	rc = rc ? rc
	        : flow_copy_begin(a->db,
	                          "COPY plays_hourly_packed (region, hour_start, song_ids, plays) "
	                          "FROM STDIN",
	                          &c, err);
	if (rc)
		return rc;
	for (int i = 0; !rc && i < n && k->nents < a->max_counts; i++) {
		const char *region = PQgetvalue(files, i, 1), *hour = PQgetvalue(files, i, 4);
		bool last;

		rc = count_file(a, PQgetvalue(files, i, 0), region, hour, err);
		rc = rc ? rc : map_groups(a, region, hour, err);
		*done = i + 1;
		last = i + 1 == n || k->nents >= a->max_counts;
		/* The hour's last file, or the batch's: its new periods go now. */
		if (!rc && (last || strcmp(hour, PQgetvalue(files, i + 1, 4)))) {
			rc = copy_window(a, &c, from, gfrom, err);
			from = k->nents;
			gfrom = k->ngroups;
		}
		/* The day's last file, or the batch's: its charts. */
		if (!rc && (last || strncmp(hour, PQgetvalue(files, i + 1, 4), 10))) {
			rc = rank_days(a, dfrom, gdfrom, err);
			dfrom = k->nents;
			gdfrom = k->ngroups;
		}
	}
	rc = rc ? (flow_copy_abort(&c), rc) : flow_copy_finish(&c, err);
	/* Periods made only by files left for the next batch come last. */
	for (size_t g = 0; !rc && g < k->ngroups && g < a->ncmap; g++)
		if (a->cmap[g] + 1 > counted)
			counted = a->cmap[g] + 1;
	if (!rc && counted < a->nperiods) {
		char p[24];
		const char *params[] = {p};

		snprintf(p, sizeof(p), "%zu", counted);
		rc = db_execp(a->db, "DELETE FROM agg_groups WHERE g >= $1::int", 1, params, NULL,
		              err);
	}
	return rc ? rc : copy_rest(a, err);
}

/* Step 3: the counts of periods that have a row already are merged into it
 * (count_files wrote the others): its songs and agg_in's, summed per song,
 * packed again in song byte order. Then the files are marked counted. */
static int add_counts(struct agg *a, PGresult *files, int done, struct ts_err *err)
{
	struct flow_copy c;
	int rc = db_exec(a->db, "ANALYZE agg_in, agg_groups", err);

	rc = rc ? rc
	        : db_exec(a->db,
	                  "WITH x AS (SELECT g.g, u.song_id, u.plays FROM agg_groups g JOIN "
	                  "plays_hourly_packed p ON p.region = g.region AND p.hour_start = "
	                  "g.hour_start CROSS JOIN LATERAL unnest(p.song_ids, p.plays) AS u "
	                  "(song_id, plays) WHERE g.old UNION ALL SELECT g, song_id, plays FROM "
	                  "agg_in), s AS (SELECT g, song_id, sum(plays) AS plays FROM x GROUP BY "
	                  "g, song_id), m AS (SELECT g, array_agg(song_id ORDER BY song_id COLLATE "
	                  "\"C\") AS song_ids, array_agg(plays ORDER BY song_id COLLATE \"C\") AS "
	                  "plays FROM s GROUP BY g) UPDATE plays_hourly_packed p SET song_ids = "
	                  "m.song_ids, plays = m.plays FROM m JOIN agg_groups g ON g.g = m.g WHERE "
	                  "p.region = g.region AND p.hour_start = g.hour_start",
	                  err);
	/* The counted files, in one statement (a back-fill counts hundreds). */
	rc = rc ? rc : flow_copy_begin(a->db, "COPY agg_files (path) FROM STDIN", &c, err);
	if (rc)
		return rc;
	for (int i = 0; !rc && i < done; i++) {
		const char *path = PQgetvalue(files, i, 0);
		rc = flow_copy_str(&c, path, strlen(path), err);
		rc = rc ? rc : flow_copy_end_row(&c, err);
	}
	rc = rc ? (flow_copy_abort(&c), rc) : flow_copy_finish(&c, err);
	return rc ? rc
	          : db_exec(a->db,
	                    "UPDATE flow_enriched_files f SET aggregated = true FROM agg_files a "
	                    "WHERE f.path = a.path AND NOT f.aggregated",
	                    err);
}

/* Step 4: the statements, in order. Song ids are ranked in byte order
 * (COLLATE "C"), whatever the database's collation.
 *
 * Each chart row is written once, with its facts and is_final: whether a
 * touched period is final is decided before its rows are inserted, and
 * the facts come from the same window over the region's rows, old and new.
 * Updating the rows after inserting them wrote every new row three times
 * (and each of its index entries), which was most of this step. */

/* An hour (of a region, or of every region for ALL) is final once the lake
 * has closed it and every file committed for it so far is counted. A day is
 * final once all its hours are and an hour after its end has closed. Each
 * statement first gathers the candidate periods (c) and what still holds
 * them open — lake hours not closed, raw files not enriched, enriched files
 * not counted — for the candidates' hours (or days) only, as one set,
 * region ALL held open by any region; then one anti-join (ready). */
#define OPEN_SQL(KEY, COLS)                                                                        \
	"k AS (SELECT DISTINCT " KEY " FROM c), o AS (SELECT " COLS " FROM lake_hours l JOIN k "   \
	"USING (" KEY ") WHERE l.closed_at IS NULL UNION SELECT " COLS " FROM flow_raw_pending "   \
	"p JOIN ingest_files l USING (path) JOIN k USING (" KEY ") UNION SELECT " COLS " FROM "    \
	"flow_enriched_files l JOIN k USING (" KEY ") WHERE NOT l.aggregated), oa AS (SELECT * "   \
	"FROM o UNION SELECT 'ALL', " KEY " FROM o)"
#define HOUR_KEYS_SQL                                                                              \
	"region, hour_start, (hour_start AT TIME ZONE 'UTC')::date AS day, extract(hour FROM "     \
	"hour_start AT TIME ZONE 'UTC')::int AS hour"
/* "WITH c AS (CANDIDATES), ..., ready AS (...) ": the statement goes on
 * with what it does with the ready periods. clang-format would break these
 * statements at each macro argument, so they and the chart facts below are
 * laid out by hand. */
/* clang-format off */
#define HOURLY_READY_SQL(CANDIDATES)                                                               \
	"WITH c AS (" CANDIDATES "), " OPEN_SQL("day, hour", "l.region, l.day, l.hour") ", "       \
	"ready AS (SELECT c.region, c.hour_start FROM c WHERE EXISTS (SELECT 1 FROM lake_hours "   \
	"l WHERE l.closed_at IS NOT NULL AND l.day = c.day AND l.hour = c.hour) AND NOT EXISTS "   \
	"(SELECT 1 FROM oa WHERE oa.region = c.region AND oa.day = c.day AND oa.hour = c.hour)) "
#define DAILY_READY_SQL(CANDIDATES)                                                                \
	"WITH c AS (" CANDIDATES "), " OPEN_SQL("day", "l.region, l.day") ", "                     \
	"ready AS (SELECT c.region, c.day FROM c WHERE EXISTS (SELECT 1 FROM lake_hours l "        \
	"WHERE l.closed_at IS NOT NULL AND l.day > c.day) AND NOT EXISTS (SELECT 1 FROM oa WHERE " \
	"oa.region = c.region AND oa.day = c.day)) "

/* The chart facts (docs/flows.md, "Chart facts"), over w: a window s of
 * each song's rows of a region in period order (FACTS_WINDOW_SQL, then
 * FACTS_ORDER_SQL after the FROM), PREV the period before w's (an
 * expression of w.PERIOD). One definition for the rows inserted and the
 * rows updated. */
#define FACTS_WINDOW_SQL(PERIOD)                                                                   \
	"lag(" PERIOD ") OVER s AS prev_at, lag(rank) OVER s AS prev_rank, "                       \
	"min(rank) OVER s AS peak, count(*) OVER s AS n"
#define FACTS_ORDER_SQL(PERIOD)                                                                    \
	" WINDOW s AS (PARTITION BY region, song_id ORDER BY " PERIOD " ROWS UNBOUNDED PRECEDING)"
#define PREVIOUS_RANK_SQL(PREV)                                                                    \
	"CASE WHEN w.prev_at = " PREV " THEN w.prev_rank END"
#define ENTRY_SQL(PREV)                                                                            \
	"CASE WHEN w.prev_at IS NULL THEN 'NEW' WHEN w.prev_at <> " PREV " THEN 'RE-ENTRY' END"

/* The new rows of a chart table with their facts: w numbers each song's
 * rows of the region, the table's remaining rows (fresh false) and the new
 * ones (NEW_SQL, fresh true) together. PERIOD is hour_start or day. */
#define FACTS_INSERT_SQL(TABLE, PERIOD, TOUCHED, NEW_SQL, PREV, FINAL)                             \
	"WITH nw AS (" NEW_SQL "), "                                                               \
	"w AS (SELECT x.*, " FACTS_WINDOW_SQL(PERIOD) " FROM ("                                    \
	"  SELECT region, " PERIOD ", rank, song_id, NULL::bigint AS plays, false AS fresh"        \
	"  FROM " TABLE " WHERE region IN (SELECT region FROM " TOUCHED ")"                        \
	"  UNION ALL SELECT region, " PERIOD ", rank, song_id, plays, true FROM nw) x"             \
	FACTS_ORDER_SQL(PERIOD) ") "                                                               \
	"INSERT INTO " TABLE " (region, " PERIOD ", rank, song_id, title, artist, genre, plays, "  \
	"previous_rank, movement, peak_rank, periods_on_chart, entry, is_final) "                  \
	"SELECT w.region, w." PERIOD ", w.rank, w.song_id, s.title, s.artist, s.genre, w.plays, "  \
	PREVIOUS_RANK_SQL(PREV) ", (" PREVIOUS_RANK_SQL(PREV) ") - w.rank, w.peak, w.n, "          \
	ENTRY_SQL(PREV) ", "                                                                       \
	"EXISTS (SELECT 1 FROM " FINAL " r WHERE r.region = w.region AND r." PERIOD " = w." PERIOD \
	") FROM w LEFT JOIN songs s ON s.song_id = w.song_id WHERE w.fresh"

/* The facts of the table's other rows that follow a touched period of
 * their region (a recomputed period can change them); nothing to do, and
 * no window computed, when no such row exists — the usual case, the live
 * hour being the last. */
#define FACTS_UPDATE_SQL(TABLE, PERIOD, TOUCHED, PREV)                                             \
	"WITH m AS (SELECT h.region, min(h." PERIOD ") AS since FROM " TOUCHED " h "               \
	"  GROUP BY h.region), "                                                                   \
	"m2 AS (SELECT m.* FROM m WHERE EXISTS (SELECT 1 FROM " TABLE " t WHERE "                  \
	"  t.region = m.region AND t." PERIOD " > m.since AND NOT EXISTS (SELECT 1 FROM " TOUCHED  \
	"  h WHERE h.region = t.region AND h." PERIOD " = t." PERIOD "))), "                       \
	"w AS (SELECT region, " PERIOD ", rank, " FACTS_WINDOW_SQL(PERIOD) " FROM " TABLE          \
	"  WHERE region IN (SELECT region FROM m2)" FACTS_ORDER_SQL(PERIOD) "), "                  \
	"f AS (SELECT w.region, w." PERIOD ", w.rank, "                                            \
	PREVIOUS_RANK_SQL(PREV) " AS previous_rank, w.peak, w.n, " ENTRY_SQL(PREV) " AS entry "    \
	"  FROM w JOIN m2 USING (region) WHERE w." PERIOD " >= m2.since) "                         \
	"UPDATE " TABLE " t SET previous_rank = f.previous_rank, movement = f.previous_rank - "    \
	"t.rank, peak_rank = f.peak, periods_on_chart = f.n, entry = f.entry, updated_at = now() " \
	"FROM f WHERE t.region = f.region AND t." PERIOD " = f." PERIOD " AND t.rank = f.rank "    \
	"AND (t.previous_rank IS DISTINCT FROM f.previous_rank OR t.movement IS DISTINCT FROM "    \
	"f.previous_rank - t.rank OR t.peak_rank <> f.peak OR t.periods_on_chart <> f.n OR "       \
	"t.entry IS DISTINCT FROM f.entry)"
/* clang-format on */

/* The charts of the touched periods: ranked in C (copy_rest, agg_top),
 * or, for periods that had counts already, ranked here from plays_hourly
 * with a bounded top-10 sort per period (LIMIT), not a rank over every
 * song. */
#define NEW_HOURLY_SQL                                                                             \
	"SELECT region, hour_start, rank, song_id, plays FROM agg_top WHERE hour_start IS NOT "    \
	"NULL UNION ALL SELECT h.region, h.hour_start, r.rank, r.song_id, r.plays FROM touched_h " \
	"h CROSS JOIN LATERAL (SELECT t.song_id, t.plays, row_number() OVER (ORDER BY t.plays "    \
	"DESC, t.song_id COLLATE \"C\") AS rank FROM (SELECT p.song_id, p.plays FROM "             \
	"plays_hourly p WHERE p.region = h.region AND p.hour_start = h.hour_start ORDER BY "       \
	"p.plays DESC, p.song_id COLLATE \"C\" LIMIT 10) t) r WHERE h.old"
#define NEW_DAILY_SQL                                                                              \
	"SELECT region, day, rank, song_id, plays FROM agg_top WHERE day IS NOT NULL UNION ALL "   \
	"SELECT d.region, d.day, r.rank, r.song_id, r.plays FROM touched_d d CROSS JOIN LATERAL "  \
	"(SELECT t.song_id, t.plays, row_number() OVER (ORDER BY t.plays DESC, t.song_id "         \
	"COLLATE \"C\") AS rank FROM (SELECT p.song_id, sum(p.plays) AS plays FROM plays_hourly "  \
	"p WHERE p.region = d.region AND p.hour_start >= d.day::timestamp AT TIME ZONE 'UTC' AND " \
	"p.hour_start < (d.day + 1)::timestamp AT TIME ZONE 'UTC' GROUP BY p.song_id ORDER BY "    \
	"sum(p.plays) DESC, p.song_id COLLATE \"C\" LIMIT 10) t) r WHERE d.old"

#define PREV_HOUR "w.hour_start - interval '1 hour'"
#define PREV_DAY  "w.day - 1"

static const char *const chart_sql[] = {
    "CREATE TEMP TABLE touched_h ON COMMIT DROP AS SELECT region, hour_start, old FROM "
    "agg_groups",
    "CREATE TEMP TABLE touched_d ON COMMIT DROP AS SELECT region, (hour_start AT TIME ZONE "
    "'UTC')::date AS day, bool_or(day_old) AS old FROM agg_groups GROUP BY 1, 2",
    /* Temporary tables have no statistics until analysed: without them the
     * planner picks nested loops over all of plays_hourly. */
    "ANALYZE touched_h, touched_d",
    "CREATE TEMP TABLE final_h ON COMMIT DROP AS " HOURLY_READY_SQL(
        "SELECT " HOUR_KEYS_SQL " FROM touched_h") "SELECT * FROM ready",
    "CREATE TEMP TABLE final_d ON COMMIT DROP AS " DAILY_READY_SQL(
        "SELECT region, day FROM touched_d") "SELECT * FROM ready",
    "DELETE FROM top_songs_hourly t USING touched_h h WHERE t.region = h.region AND "
    "t.hour_start = h.hour_start",
    FACTS_INSERT_SQL("top_songs_hourly", "hour_start", "touched_h", NEW_HOURLY_SQL, PREV_HOUR,
                     "final_h"),
    "DELETE FROM top_songs_daily t USING touched_d d WHERE t.region = d.region AND t.day = d.day",
    FACTS_INSERT_SQL("top_songs_daily", "day", "touched_d", NEW_DAILY_SQL, PREV_DAY, "final_d"),
    FACTS_UPDATE_SQL("top_songs_hourly", "hour_start", "touched_h", PREV_HOUR),
    FACTS_UPDATE_SQL("top_songs_daily", "day", "touched_d", PREV_DAY),
};

/* The periods that became final without new plays (their hour closed
 * since, say), in every run. */
#define HOURLY_FINAL_SQL                                                                           \
	HOURLY_READY_SQL("SELECT DISTINCT " HOUR_KEYS_SQL                                          \
	                 " FROM top_songs_hourly WHERE NOT is_final")                              \
	"UPDATE top_songs_hourly t SET is_final = true, updated_at = now() FROM ready r WHERE "    \
	"t.region = r.region AND t.hour_start = r.hour_start"
#define DAILY_FINAL_SQL                                                                            \
	DAILY_READY_SQL("SELECT DISTINCT region, day FROM top_songs_daily WHERE NOT is_final")     \
	"UPDATE top_songs_daily t SET is_final = true, updated_at = now() FROM ready r WHERE "     \
	"t.region = r.region AND t.day = r.day"

static const char *const final_sql[] = {HOURLY_FINAL_SQL, DAILY_FINAL_SQL};

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
	struct agg a = {
	    .db = db, .stats = stats, .max_counts = (size_t)args->cfg->flows_aggregate_max_counts};
	struct progress pg;
	int rc, more = 1;

	flow_counts_init(&a.counts);
	rc = flow_lake_open(args->cfg, &a.lake, err);

	dbuf_init(&a.buf, FLOW_FILE_MAX);
	dbuf_init(&a.elems, UINT32_MAX);
	progress_begin(&pg, "aggregate", 0); /* batches of files: the total is unknown */
	while (!rc && more) {
		rc = batch(&a, args, &more, err);
		progress_update(&pg, (uint64_t)stats->rows_in, "rows counted");
	}
	progress_end(&pg);
	if (rc)
		ts_err_wrap(err, "aggregate");
	free(a.dict_counts);
	free(a.periods);
	free(a.charts);
	free(a.elem_off);
	free(a.order);
	free(a.gstart);
	dbuf_release(&a.elems);
	free(a.cmap);
	free(a.dense);
	free(a.seen);
	flow_counts_release(&a.counts);
	dbuf_release(&a.buf);
	flow_lake_close(&a.lake);
	return rc;
}
