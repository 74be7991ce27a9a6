/*
 * Flow `enrich`: raw/ -> enriched/, one lake hour (region, day, hour) at a
 * time, each in one transaction under the hour's advisory lock:
 *
 *   1. publish the enriched files of the hour that a killed run committed
 *      but did not publish, and remove the hour's staging leftovers;
 *   2. take the hour's pending raw files: committed and published in
 *      ingest_files, not yet in flow_enrich_inputs (flow_raw_pending);
 *   3. read the physical files that hold their rows (coalesce(compacted_into,
 *      path); if one has vanished under a compaction, the whole hour folder,
 *      under ingest's hour lock) and keep the rows whose (kafka_partition,
 *      kafka_offset) lie in a pending file's range — each pending file must
 *      yield exactly its `rows`, or the run fails naming it;
 *   4. drop the rows whose event_id is already in the hour (in an enriched
 *      file or earlier in this batch, in Kafka partition and offset order),
 *      join the catalog, write one enriched file to staging under a name
 *      derived from its inputs, record it and its inputs, commit;
 *   5. publish it (staged -> enriched/) and mark it published.
 *
 * A run killed anywhere leaves either nothing (the transaction did not
 * commit: the staged file is a leftover, removed by the next run) or a
 * committed file that the next run publishes. docs/flows.md has the rest.
 */
#include "base/common.h"
#include "base/failpoint.h"
#include "base/log.h"
#include "base/progress.h"
#include "db/db.h"
#include "flow/flow_hash.h"
#include "flow/flow_impl.h"
#include "flow/flow_lake.h"
#include "flow/flow_rows.h"
#include "ingest/ingest_compact.h"
#include "ingest/ingest_file.h"
#include "parquet/parquet_compress.h"
#include "parquet/parquet_writer.h"
#include "store/store.h"

#include <pthread.h>
#include <unistd.h>

#define MAX_HOUR_ROWS  (8u << 20) /* rows of one lake hour held at once */
#define MAX_HOUR_BYTES (1u << 30) /* their text */
#define MAX_SONGS      (8u << 20)
#define READ_ROUNDS    5 /* reads of an hour whose files a compaction swaps */

enum { RAW_EVENT_ID = 0, RAW_SONG_ID = 2, RAW_PARTITION = 10, RAW_OFFSET = 11, RAW_NCOLS = 13 };

/* The raw schema (ingest_raw_schema) and the catalog's columns. */
static struct parquet_writer_column enriched_schema[RAW_NCOLS + 3];
static const struct parquet_writer_column event_id_schema[] = {
    {"event_id", PARQUET_BYTE_ARRAY, PARQUET_LT_STRING, false},
};

struct input {
	char *path;     /* the committed raw file */
	char *physical; /* the file holding its rows now */
	int32_t part;
	int64_t first, last, rows, got;
};

struct hour {
	char region[16], day[16];
	int hour;
	struct input *in;
	int nin;
};

struct enrich {
	struct db *db;
	struct flow_lake lake;
	struct flow_stats *stats;
	PGresult *songs;
	struct flow_hash catalog; /* song_id -> row of songs */
	struct flow_rows file;    /* one raw file */
	struct flow_rows acc;     /* the hour's pending rows */
	struct flow_rows seen;    /* event ids already enriched in the hour */
	struct dbuf buf;
};

static void init_schema(void)
{
	int n;
	const struct parquet_writer_column *raw = ingest_raw_schema(&n);

	if (n != RAW_NCOLS || strcmp(raw[RAW_EVENT_ID].name, "event_id") ||
	    strcmp(raw[RAW_SONG_ID].name, "song_id") ||
	    strcmp(raw[RAW_PARTITION].name, "kafka_partition") ||
	    strcmp(raw[RAW_OFFSET].name, "kafka_offset"))
		BUG("the raw schema changed; update flow_enrich.c");
	memcpy(enriched_schema, raw, sizeof(*raw) * RAW_NCOLS);
	for (int i = 0; i < 3; i++)
		enriched_schema[RAW_NCOLS + i] =
		    (struct parquet_writer_column){i == 0   ? "title"
		                                   : i == 1 ? "artist"
		                                            : "genre",
		                                   PARQUET_BYTE_ARRAY, PARQUET_LT_STRING, true};
}

static int load_catalog(struct enrich *e, struct ts_err *err)
{
	int rc = db_execp(e->db, "SELECT song_id, title, artist, genre FROM songs", 0, NULL,
	                  &e->songs, err);
	int added;

	flow_hash_init(&e->catalog, MAX_SONGS);
	for (int i = 0; !rc && i < PQntuples(e->songs); i++)
		rc = flow_hash_put(&e->catalog, PQgetvalue(e->songs, i, 0),
		                   (size_t)PQgetlength(e->songs, i, 0), (uint32_t)i, &added, err);
	return rc ? ts_err_wrap(err, "songs") : 0;
}

static void hour_free(struct hour *h)
{
	for (int i = 0; i < h->nin; i++) {
		free(h->in[i].path);
		free(h->in[i].physical);
	}
	free(h->in);
	h->in = NULL;
	h->nin = 0;
}

/* Step 1: committed but unpublished enriched files of the hour, then the
 * hour's staging leftovers. */
static int publish_pending(struct enrich *e, const struct hour *h, struct ts_err *err)
{
	char hour[8], prefix[FLOW_KEY_MAX];
	const char *params[] = {h->region, h->day, hour};
	PGresult *r = NULL;
	int rc;

	snprintf(hour, sizeof(hour), "%d", h->hour);
	rc = db_execp(e->db,
	              "SELECT path, staged_path FROM flow_enriched_files WHERE region = $1 AND "
	              "day = $2 AND hour = $3 AND NOT published",
	              3, params, &r, err);
	for (int i = 0; !rc && i < PQntuples(r); i++) {
		const char *p[] = {PQgetvalue(r, i, 0)};
		rc = flow_lake_move(&e->lake, PQgetvalue(r, i, 1), PQgetvalue(r, i, 0), err);
		rc =
		    rc ? rc
		       : db_execp(e->db,
		                  "UPDATE flow_enriched_files SET published = true WHERE path = $1",
		                  1, p, NULL, err);
	}
	PQclear(r);
	flow_enriched_staging_dir(h->region, h->day, h->hour, prefix, sizeof(prefix));
	return rc ? rc : flow_lake_discard(&e->lake, prefix, err);
}

/* Step 2, in (partition, first offset) order. */
static int load_inputs(struct enrich *e, struct hour *h, struct ts_err *err)
{
	char hour[8];
	const char *params[] = {h->region, h->day, hour};
	PGresult *r = NULL;
	int rc;

	snprintf(hour, sizeof(hour), "%d", h->hour);
	rc = db_execp(e->db,
	              "SELECT path, coalesce(compacted_into, path), kafka_partition, first_offset, "
	              "last_offset, rows FROM flow_raw_pending JOIN ingest_files f USING (path) "
	              "WHERE region = $1 AND day = $2 AND hour = $3 AND published ORDER BY "
	              "kafka_partition, first_offset",
	              3, params, &r, err);
	if (rc)
		return rc;
	h->nin = PQntuples(r);
	h->in = calloc((size_t)h->nin + 1, sizeof(*h->in));
	for (int i = 0; h->in && i < h->nin; i++) {
		struct input *in = &h->in[i];
		in->path = strdup(PQgetvalue(r, i, 0));
		in->physical = strdup(PQgetvalue(r, i, 1));
		in->part = (int32_t)strtol(PQgetvalue(r, i, 2), NULL, 10);
		in->first = strtoll(PQgetvalue(r, i, 3), NULL, 10);
		in->last = strtoll(PQgetvalue(r, i, 4), NULL, 10);
		in->rows = strtoll(PQgetvalue(r, i, 5), NULL, 10);
		if (!in->path || !in->physical)
			rc = TS_ENOMEM;
	}
	PQclear(r);
	if (!h->in || rc) {
		hour_free(h);
		return ts_err_set(err, TS_ENOMEM, "out of memory");
	}
	return 0;
}

/* The pending input whose range holds (part, off), or -1. */
static int find_input(const struct hour *h, int32_t part, int64_t off)
{
	int lo = 0, hi = h->nin - 1;

	while (lo <= hi) {
		int mid = lo + (hi - lo) / 2;
		const struct input *in = &h->in[mid];

		if (in->part < part || (in->part == part && in->last < off))
			lo = mid + 1;
		else if (in->part > part || in->first > off)
			hi = mid - 1;
		else
			return mid;
	}
	return -1;
}

/* Reads one physical file and keeps its pending rows. */
static int take_file(struct enrich *e, struct hour *h, const char *key, struct ts_err *err)
{
	int rc = store_get(e->lake.store, key, FLOW_FILE_MAX, &e->buf, err);

	if (rc)
		return rc;
	flow_rows_reset(&e->file);
	rc = flow_rows_read(&e->file, e->buf.buf, e->buf.len, key, err);
	for (size_t i = 0; !rc && i < e->file.n; i++) {
		int k = find_input(h, (int32_t)flow_rows_int(&e->file, RAW_PARTITION, i),
		                   flow_rows_int(&e->file, RAW_OFFSET, i));
		if (k < 0)
			continue;
		h->in[k].got++;
		rc = flow_rows_copy_row(&e->acc, &e->file, i, err);
	}
	e->stats->rows_in += e->file.n;
	return rc;
}

static int by_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct keys {
	char **k;
	int n, cap;
	const char *want_prefix;
};

static int collect_key(const struct store_entry *en, void *arg)
{
	struct keys *ks = arg;
	char **k;

	if (strlen(en->key) < 8 || strcmp(en->key + strlen(en->key) - 8, ".parquet"))
		return 0;
	if (ks->n == ks->cap) {
		ks->cap = ks->cap ? ks->cap * 2 : 16;
		k = realloc(ks->k, (size_t)ks->cap * sizeof(*k));
		if (!k)
			return TS_ENOMEM;
		ks->k = k;
	}
	ks->k[ks->n] = strdup(en->key);
	return ks->k[ks->n++] ? 0 : TS_ENOMEM;
}

static void keys_free(struct keys *ks)
{
	for (int i = 0; i < ks->n; i++)
		free(ks->k[i]);
	free(ks->k);
}

static void reset_got(struct enrich *e, struct hour *h)
{
	flow_rows_reset(&e->acc);
	for (int i = 0; i < h->nin; i++)
		h->in[i].got = 0;
}

/* The hour folder as it is now: every file in it. */
static int read_folder(struct enrich *e, struct hour *h, struct ts_err *err)
{
	char dir[FLOW_KEY_MAX];
	struct keys ks = {0};
	int rc;

	flow_hour_dir("raw", h->region, h->day, h->hour, dir, sizeof(dir));
	strncat(dir, "/", sizeof(dir) - strlen(dir) - 1);
	reset_got(e, h);
	rc = store_list(e->lake.store, dir, collect_key, &ks, err);
	if (rc == TS_ENOMEM)
		ts_err_set(err, rc, "out of memory");
	for (int i = 0; !rc && i < ks.n; i++)
		rc = take_file(e, h, ks.k[i], err);
	keys_free(&ks);
	return rc;
}

/* The physical files of the pending inputs, each once. */
static int read_physical(struct enrich *e, struct hour *h, struct ts_err *err)
{
	char **keys = calloc((size_t)h->nin + 1, sizeof(*keys));
	int rc = keys ? 0 : ts_err_set(err, TS_ENOMEM, "out of memory");

	for (int i = 0; !rc && i < h->nin; i++)
		keys[i] = h->in[i].physical;
	if (!rc)
		qsort(keys, (size_t)h->nin, sizeof(*keys), by_str);
	reset_got(e, h);
	for (int i = 0; !rc && i < h->nin; i++) {
		if (i && !strcmp(keys[i], keys[i - 1]))
			continue;
		rc = take_file(e, h, keys[i], err);
	}
	free(keys);
	return rc;
}

static int check_counts(const struct hour *h, struct ts_err *err)
{
	for (int i = 0; i < h->nin; i++) {
		const struct input *in = &h->in[i];
		if (in->got != in->rows)
			return ts_err_set(err, TS_ECORRUPT,
			                  "raw file %s: ingest committed %lld rows (partition %d, "
			                  "offsets %lld-%lld) but the lake holds %lld of them",
			                  in->path, (long long)in->rows, (int)in->part,
			                  (long long)in->first, (long long)in->last,
			                  (long long)in->got);
	}
	return 0;
}

/* Step 3 on a local lake: the hour folder is read under ingest's hour lock,
 * so compaction cannot swap it meanwhile; a file that had vanished before
 * (swapped by a compaction, bookkeeping maybe not yet updated) sends us to
 * the folder as it is. */
static int read_local(struct enrich *e, struct hour *h, const char *dir, struct ts_err *err)
{
	int rc = ingest_hour_lock(e->db, dir, 1, err);

	rc = rc ? rc : read_physical(e, h, err);
	if (rc == TS_ENOTFOUND || (!rc && check_counts(h, NULL))) {
		log_info("enrich: reading the whole hour folder", "dir=%s", dir);
		rc = read_folder(e, h, err);
	}
	ingest_hour_lock(e->db, dir, 0, NULL);
	return rc;
}

/* Step 3 on S3, which has no hour lock: a compaction may delete a file
 * between our reading of the bookkeeping and our GET. It deletes only after
 * committing the bookkeeping that points at its merged file, so the inputs
 * read again name files that exist; a few rounds settle any run of
 * compactions. (Listing the folder instead would race the same way.) */
static int read_s3(struct enrich *e, struct hour *h, const char *dir, struct ts_err *err)
{
	int rc;

	for (int round = 1;; round++) {
		rc = read_physical(e, h, err);
		if (rc != TS_ENOTFOUND || round == READ_ROUNDS)
			break;
		log_info("enrich: a raw file vanished under a compaction; reading the hour's "
		         "bookkeeping again",
		         "dir=%s round=%d", dir, round);
		hour_free(h);
		rc = load_inputs(e, h, err);
		if (rc)
			return rc;
	}
	if (!rc && check_counts(h, NULL)) {
		log_info("enrich: reading the whole hour folder", "dir=%s", dir);
		rc = read_folder(e, h, err);
	}
	return rc;
}

static int read_pending(struct enrich *e, struct hour *h, struct ts_err *err)
{
	char dir[FLOW_KEY_MAX];
	long pause = failpoint_arg("enrich.read-pause");
	int rc;

	if (pause > 0) /* tests: lets a compaction swap the hour's files first */
		sleep((unsigned)pause);
	flow_hour_dir("raw", h->region, h->day, h->hour, dir, sizeof(dir));
	rc = e->lake.root ? read_local(e, h, dir, err) : read_s3(e, h, dir, err);
	return rc ? rc : check_counts(h, err);
}

/* Event ids of the hour's enriched files, all published by step 1. */
static int load_seen(struct enrich *e, const struct hour *h, struct ts_err *err)
{
	char hour[8];
	const char *params[] = {h->region, h->day, hour};
	PGresult *r = NULL;
	int rc;

	snprintf(hour, sizeof(hour), "%d", h->hour);
	flow_rows_reset(&e->seen);
	rc = db_execp(e->db,
	              "SELECT path FROM flow_enriched_files WHERE region = $1 AND day = $2 AND "
	              "hour = $3 ORDER BY path",
	              3, params, &r, err);
	for (int i = 0; !rc && i < PQntuples(r); i++) {
		rc = store_get(e->lake.store, PQgetvalue(r, i, 0), FLOW_FILE_MAX, &e->buf, err);
		rc =
		    rc ? rc
		       : flow_rows_read(&e->seen, e->buf.buf, e->buf.len, PQgetvalue(r, i, 0), err);
	}
	PQclear(r);
	return rc;
}

static int cmp_rows(const void *a, const void *b, void *arg)
{
	const struct flow_rows *t = arg;
	size_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
	int64_t pi = flow_rows_int(t, RAW_PARTITION, i), pj = flow_rows_int(t, RAW_PARTITION, j);
	int64_t oi = flow_rows_int(t, RAW_OFFSET, i), oj = flow_rows_int(t, RAW_OFFSET, j);

	if (pi != pj)
		return pi < pj ? -1 : 1;
	return oi < oj ? -1 : oi > oj;
}

struct out {
	uint32_t *order; /* rows of acc to write, in partition and offset order */
	size_t n;
	int64_t duplicates, unknown;
	uint64_t digest;
	char key[FLOW_KEY_MAX], staged[FLOW_KEY_MAX];
	void *bytes;
	size_t len;
};

/* Step 4a: the rows to write, first of each event id. */
static int dedup(struct enrich *e, struct out *o, struct ts_err *err)
{
	struct flow_hash ids;
	int rc = 0, added;

	o->order = malloc((e->acc.n + 1) * sizeof(*o->order));
	if (!o->order)
		return ts_err_set(err, TS_ENOMEM, "out of memory");
	for (size_t i = 0; i < e->acc.n; i++)
		o->order[i] = (uint32_t)i;
	qsort_r(o->order, e->acc.n, sizeof(*o->order), cmp_rows, &e->acc);
	flow_hash_init(&ids, MAX_HOUR_ROWS * 2u);
	for (size_t i = 0; !rc && i < e->seen.n; i++) {
		struct parquet_bytes b = flow_rows_str(&e->seen, 0, i);
		rc = flow_hash_put(&ids, b.ptr, b.len, 0, &added, err);
	}
	for (size_t i = 0; !rc && i < e->acc.n; i++) {
		struct parquet_bytes b = flow_rows_str(&e->acc, RAW_EVENT_ID, o->order[i]);
		rc = flow_hash_put(&ids, b.ptr, b.len, 0, &added, err);
		if (added)
			o->order[o->n++] = o->order[i];
		else
			o->duplicates++;
	}
	flow_hash_release(&ids);
	return rc;
}

static int put_catalog(struct enrich *e, struct parquet_writer *w, size_t row, int64_t *unknown)
{
	struct parquet_bytes id = flow_rows_str(&e->acc, RAW_SONG_ID, row);
	int64_t k = flow_hash_get(&e->catalog, id.ptr, id.len);
	int rc = 0;

	for (int c = 0; !rc && c < 3; c++) {
		if (k < 0)
			rc = parquet_writer_put_null(w, RAW_NCOLS + c);
		else
			rc = parquet_writer_put_bytes(w, RAW_NCOLS + c,
			                              PQgetvalue(e->songs, (int)k, c + 1),
			                              (size_t)PQgetlength(e->songs, (int)k, c + 1));
	}
	*unknown += k < 0;
	return rc;
}

/* Step 4b: the enriched file, in memory. */
static int write_file(struct enrich *e, struct out *o, struct ts_err *err)
{
	struct parquet_writer_opts opts;
	struct parquet_writer *w = NULL;
	int rc;

	parquet_writer_opts_init(&opts);
	opts.codec = PARQUET_ZSTD;
	opts.threads = 0;
	rc = parquet_writer_new_mem(enriched_schema, RAW_NCOLS + 3, &opts, &w, err);
	for (size_t i = 0; !rc && i < o->n; i++) {
		for (int c = 0; !rc && c < RAW_NCOLS; c++)
			rc = flow_rows_put(&e->acc, c, o->order[i], w, c);
		rc = rc ? rc : put_catalog(e, w, o->order[i], &o->unknown);
		if (rc && err && !err->msg[0])
			ts_err_set(err, rc, "cannot add a row to %s", o->key);
		rc = rc ? rc : parquet_writer_end_row(w, err);
	}
	rc = rc ? rc : parquet_writer_close(w, err);
	if (!rc)
		o->bytes = parquet_writer_take(w, &o->len);
	parquet_writer_free(w);
	return rc;
}

static uint64_t inputs_digest(const struct hour *h)
{
	uint64_t d = 0xcbf29ce484222325ull;

	for (int i = 0; i < h->nin; i++)
		d = d * 31 + flow_hash_bytes(h->in[i].path, strlen(h->in[i].path));
	return d;
}

/* Step 4c: the file and its inputs, in the hour's transaction. */
static int record(struct enrich *e, const struct hour *h, const struct out *o, struct ts_err *err)
{
	char hour[8], rows[24], dups[24], unk[24], got[24];
	const char *p[] = {o->key, o->staged, h->region, h->day, hour, rows, dups, unk};
	int rc;

	snprintf(hour, sizeof(hour), "%d", h->hour);
	snprintf(rows, sizeof(rows), "%zu", o->n);
	snprintf(dups, sizeof(dups), "%lld", (long long)o->duplicates);
	snprintf(unk, sizeof(unk), "%lld", (long long)o->unknown);
	rc =
	    db_execp(e->db,
	             "INSERT INTO flow_enriched_files (path, staged_path, region, day, hour, rows, "
	             "duplicates, unknown_songs) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
	             8, p, NULL, err);
	for (int i = 0; !rc && i < h->nin; i++) {
		const char *q[] = {h->in[i].path, o->key, got};
		snprintf(got, sizeof(got), "%lld", (long long)h->in[i].got);
		rc = db_execp(e->db,
		              "INSERT INTO flow_enrich_inputs (raw_path, enriched_path, rows_read) "
		              "VALUES ($1, $2, $3)",
		              3, q, NULL, err);
	}
	return rc;
}

static int publish_new(struct enrich *e, const struct out *o, struct ts_err *err)
{
	const char *p[] = {o->key};
	int rc = store_put(e->lake.store, o->key, o->bytes, o->len, err);

	rc = rc ? rc : store_delete(e->lake.store, o->staged, err);
	if (!rc)
		failpoint("enrich.published-file");
	return rc ? rc
	          : db_execp(e->db,
	                     "UPDATE flow_enriched_files SET published = true WHERE path = $1", 1,
	                     p, NULL, err);
}

/* Steps 3 and 4 for an hour with pending inputs. */
static int enrich_inputs(struct enrich *e, const struct hour *h, struct out *o, struct ts_err *err)
{
	int rc = read_pending(e, (struct hour *)h, err);

	rc = rc ? rc : load_seen(e, h, err);
	rc = rc ? rc : dedup(e, o, err);
	o->digest = inputs_digest(h);
	flow_enriched_key(h->region, h->day, h->hour, o->digest, o->key, sizeof(o->key));
	flow_enriched_staged(h->region, h->day, h->hour, o->digest, o->staged, sizeof(o->staged));
	rc = rc ? rc : write_file(e, o, err);
	rc = rc ? rc : store_put(e->lake.store, o->staged, o->bytes, o->len, err);
	if (!rc)
		failpoint("enrich.staged");
	return rc ? rc : record(e, h, o, err);
}

static int enrich_hour(struct enrich *e, struct hour *h, struct ts_err *err)
{
	struct out o = {0};
	int rc = db_exec(e->db, "BEGIN", err);

	rc = rc ? rc : flow_lock(e->db, "enrich", h->region, h->day, h->hour, err);
	rc = rc ? rc : publish_pending(e, h, err);
	rc = rc ? rc : load_inputs(e, h, err);
	if (!rc && h->nin)
		rc = enrich_inputs(e, h, &o, err);
	rc = rc ? rc : db_exec(e->db, "COMMIT", err);
	if (rc) {
		db_exec(e->db, "ROLLBACK", NULL);
		goto out;
	}
	failpoint("enrich.committed");
	if (h->nin) {
		rc = publish_new(e, &o, err);
		e->stats->rows_out += (int64_t)o.n;
		e->stats->partitions++;
		log_info("enriched",
		         "file=%s inputs=%d rows=%zu duplicates=%lld unknown_songs=%lld", o.key,
		         h->nin, o.n, (long long)o.duplicates, (long long)o.unknown);
	}
out:
	free(o.order);
	free(o.bytes);
	hour_free(h);
	return rc;
}

/* The hours with pending raw files or unpublished enriched files. */
static int pending_hours(struct enrich *e, const struct flow_args *args, PGresult **r,
                         struct ts_err *err)
{
	char bufs[2][32];
	const char *params[3];

	flow_range_params(args, bufs, params);
	return db_execp(
	    e->db,
	    "WITH h AS (SELECT f.region, f.day, f.hour FROM flow_raw_pending p JOIN ingest_files "
	    "f USING (path) WHERE f.published UNION SELECT region, day, hour FROM "
	    "flow_enriched_files WHERE NOT published) SELECT region, day::text, hour FROM h "
	    "WHERE " FLOW_RANGE_SQL " ORDER BY day, hour, region",
	    3, params, r, err);
}

static void enrich_release(struct enrich *e)
{
	flow_rows_release(&e->file);
	flow_rows_release(&e->acc);
	flow_rows_release(&e->seen);
	flow_hash_release(&e->catalog);
	PQclear(e->songs);
	dbuf_release(&e->buf);
	flow_lake_close(&e->lake);
}

int flow_enrich_run(struct db *db, const struct flow_args *args, struct flow_stats *stats,
                    struct ts_err *err)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct enrich e = {.db = db, .stats = stats};
	PGresult *hours = NULL;
	struct progress pg;
	int rc;

	pthread_once(&once, init_schema); /* runs may share the process (scheduler threads) */
	flow_rows_init(&e.file, enriched_schema, RAW_NCOLS, MAX_HOUR_ROWS, MAX_HOUR_BYTES);
	flow_rows_init(&e.acc, enriched_schema, RAW_NCOLS, MAX_HOUR_ROWS, MAX_HOUR_BYTES);
	flow_rows_init(&e.seen, event_id_schema, 1, MAX_HOUR_ROWS, MAX_HOUR_BYTES);
	dbuf_init(&e.buf, FLOW_FILE_MAX);
	rc = flow_lake_open(args->cfg, &e.lake, err);
	rc = rc ? rc : load_catalog(&e, err);
	rc = rc ? rc : pending_hours(&e, args, &hours, err);
	progress_begin(&pg, "enrich", rc ? 0 : (uint64_t)PQntuples(hours));
	for (int i = 0; !rc && i < PQntuples(hours); i++) {
		struct hour h = {.hour = (int)strtol(PQgetvalue(hours, i, 2), NULL, 10)};
		snprintf(h.region, sizeof(h.region), "%s", PQgetvalue(hours, i, 0));
		snprintf(h.day, sizeof(h.day), "%s", PQgetvalue(hours, i, 1));
		progress_update(&pg, (uint64_t)i, "hours, now %s %s %02d", h.region, h.day, h.hour);
		rc = enrich_hour(&e, &h, err);
		if (rc)
			ts_err_wrap(err, "enrich %s %s hour %02d", h.region, h.day, h.hour);
	}
	progress_end(&pg);
	PQclear(hours);
	enrich_release(&e);
	return rc;
}
