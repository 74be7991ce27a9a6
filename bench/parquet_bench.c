/*
 * Benchmark driver for the Parquet codec (built by bench/parquet.sh, not part
 * of the product):
 *
 *   parquet_bench write FILE ROWS CODEC   writes ROWS play events in the raw
 *       lake schema, the one ingest writes (ingest_raw_schema(): event
 *       fields + Kafka partition, offset and ingest time), with realistic
 *       distributions — Zipf song popularity, Zipf-ish listeners, weighted
 *       regions, a daily timeline — and prints one JSON line: rows, logical
 *       bytes, seconds spent in the writer, file size. Rows are generated in
 *       blocks of 65,536 outside the timed part and handed over column by
 *       column (parquet_writer_put_column), each column's values contiguous
 *       as in an Arrow table (what pyarrow gets in bench/parquet_bench.py).
 *       Environment: PARQUET_BENCH_THREADS (0, the default: everything on
 *       the calling thread, like pyarrow's writer; 1: the helper thread),
 *       PARQUET_BENCH_NO_SYNC (set: no fsync), PARQUET_BENCH_ROW_GROUP (rows
 *       a row group, default 1,048,576, pyarrow's default).
 *   parquet_bench count FILE              counts plays per song_id over
 *       dictionary indices where pages are dictionary-encoded (values
 *       otherwise) and prints one JSON line: rows, distinct songs, seconds,
 *       and the top song.
 */
#include "base/common.h"
#include "base/timeutil.h"
#include "ingest/ingest_file.h"
#include "parquet/parquet_chunk.h"
#include "parquet/parquet_compress.h"
#include "parquet/parquet_dict.h"
#include "parquet/parquet_reader.h"
#include "parquet/parquet_writer.h"

#include <math.h>

#define BLOCK   65536
#define NSONGS  100000
#define NUSERS  1000000
#define NCITIES 400
#define NPART   12
#define MAXCOLS 32 /* columns the bench's blocks have room for */

/* The fields the generator makes; the schema's columns are matched to them
 * by name, so the bench follows the lake schema wherever it goes. */
enum {
	F_EVENT_ID,
	F_USER_ID,
	F_SONG_ID,
	F_TS,
	F_COUNTRY,
	F_CITY,
	F_LAT,
	F_LON,
	F_DEVICE,
	F_DURATION,
	F_PARTITION,
	F_OFFSET,
	F_INGEST,
	NFIELDS
};

static const char *const field_names[NFIELDS] = {
    "event_id",   "user_id", "song_id", "ts",          "country",         "city",
    "lat",        "lon",     "device",  "duration_ms", "kafka_partition", "kafka_offset",
    "ingest_time"};

static const struct parquet_writer_column *cols;
static int ncols;
static int field_of[MAXCOLS]; /* column -> field */

static int map_schema(void)
{
	cols = ingest_raw_schema(&ncols);
	if (ncols > MAXCOLS) {
		fprintf(stderr, "parquet_bench: %d columns, room for %d\n", ncols, MAXCOLS);
		return -1;
	}
	for (int c = 0; c < ncols; c++) {
		field_of[c] = -1;
		for (int f = 0; f < NFIELDS; f++)
			if (!strcmp(cols[c].name, field_names[f]))
				field_of[c] = f;
		if (field_of[c] < 0) {
			fprintf(stderr, "parquet_bench: no generator for lake column '%s'\n",
			        cols[c].name);
			return -1;
		}
	}
	return 0;
}

static const char *const regions[] = {"NA", "SA", "EU", "AF", "AS", "OC"};
static const double region_w[] = {0.28, 0.10, 0.27, 0.05, 0.25, 0.05};
static const char *const countries[6][4] = {{"US", "CA", "MX", "US"}, {"BR", "AR", "CO", "CL"},
                                            {"DE", "FR", "GB", "ES"}, {"NG", "ZA", "EG", "KE"},
                                            {"IN", "JP", "ID", "KR"}, {"AU", "NZ", "AU", "FJ"}};
static const char *const devices[] = {"ios", "android", "web", "desktop", "car", "tv"};
static const double device_w[] = {0.38, 0.40, 0.10, 0.07, 0.03, 0.02};

struct row {
	char event_id[37], user_id[16], song_id[16], city[24];
	const char *region, *country, *device;
	int64_t ts, offset, ingest;
	double lat, lon;
	int32_t duration, partition;
	bool no_country, no_city, no_geo, no_device, no_duration;
};

static uint64_t rng = 0x2545f4914f6cdd1dULL;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static double unif(void)
{
	return (double)(rnd() >> 11) / 9007199254740992.0;
}

static int pick(const double *w, int n)
{
	double u = unif();

	for (int i = 0; i < n - 1; i++) {
		if (u < w[i])
			return i;
		u -= w[i];
	}
	return n - 1;
}

/* Zipf(s) over 1..n by inverse CDF. */
struct zipf {
	double *cdf;
	int n;
};

static void zipf_init(struct zipf *z, int n, double s)
{
	double sum = 0;

	z->n = n;
	z->cdf = malloc((size_t)n * sizeof(double));
	for (int i = 0; i < n; i++)
		z->cdf[i] = (sum += 1.0 / pow(i + 1, s));
	for (int i = 0; i < n; i++)
		z->cdf[i] /= sum;
}

static int zipf_draw(const struct zipf *z)
{
	double u = unif();
	int lo = 0, hi = z->n - 1;

	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (z->cdf[mid] < u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void gen_row(struct row *r, const struct zipf *songs, const struct zipf *users, int64_t i,
                    int64_t rows, int64_t *offsets)
{
	static const char hex[] = "0123456789abcdef";
	uint64_t a = rnd(), b = rnd();
	int reg = pick(region_w, 6), city = (int)(rnd() % NCITIES);
	int user = zipf_draw(users);

	for (int k = 0; k < 36; k++) {
		uint64_t x = k < 16 ? a >> (k * 4) : b >> ((k - 16) * 3);

		r->event_id[k] = (k == 8 || k == 13 || k == 18 || k == 23) ? '-' : hex[x & 15];
	}
	r->event_id[14] = '4';
	r->event_id[36] = '\0';
	snprintf(r->user_id, sizeof(r->user_id), "u%07d", user);
	snprintf(r->song_id, sizeof(r->song_id), "s%06d", zipf_draw(songs));
	r->region = regions[reg];
	r->country = countries[reg][city % 4];
	snprintf(r->city, sizeof(r->city), "%s-city-%03d", r->country, city);
	/* One day of plays, in order, with a little jitter. */
	r->ts = INT64_C(1764028800000000) + i * (INT64_C(86400000000) / (rows ? rows : 1)) +
	        (int64_t)(rnd() % 2000000);
	r->lat = -60 + (city * 0.3) + unif() * 0.05;
	r->lon = -170 + (city * 0.85) + unif() * 0.05;
	r->device = devices[pick(device_w, 6)];
	r->duration = (int32_t)(30000 + exp(unif() * 2.5) * 15000);
	r->partition = (int32_t)(((uint64_t)user * 2654435761u) % NPART);
	r->offset = offsets[r->partition]++;
	r->ingest = r->ts + 50000 + (int64_t)(rnd() % 3000000);
	r->no_country = rnd() % 100 < 5;
	r->no_city = r->no_country || rnd() % 100 < 10;
	r->no_geo = r->no_city;
	r->no_device = rnd() % 100 < 3;
	r->no_duration = rnd() % 100 < 2;
}

static size_t logical_bytes(const struct row *r)
{
	/* The region is in the lake's path, not in the file. */
	return 36 + strlen(r->user_id) + strlen(r->song_id) + 8 + (r->no_country ? 0 : 2) +
	       (r->no_city ? 0 : strlen(r->city)) + (r->no_geo ? 0 : 16) +
	       (r->no_device ? 0 : strlen(r->device)) + (r->no_duration ? 0 : 4) + 4 + 8 + 8;
}

/* One block of rows, column by column, as parquet_writer_put_column takes
 * it: a byte-array column's values lie end to end in its own arena, like
 * the data buffer of an Arrow string array. */
struct block {
	struct parquet_bytes str[MAXCOLS][BLOCK];
	int64_t i64[MAXCOLS][BLOCK];
	int32_t i32[MAXCOLS][BLOCK];
	double f64[MAXCOLS][BLOCK];
	uint8_t valid[MAXCOLS][BLOCK];
	char *arena[MAXCOLS];
	size_t used[MAXCOLS];
};

#define ARENA (BLOCK * 40) /* the longest string field is 36 bytes */

static void set_str(struct block *b, int c, size_t k, bool null, const char *s)
{
	size_t n = null ? 0 : strlen(s);
	char *p = b->arena[c] + b->used[c];

	memcpy(p, s, n);
	b->used[c] += n;
	b->str[c][k].ptr = (const uint8_t *)p;
	b->str[c][k].len = (uint32_t)n;
	b->valid[c][k] = !null;
}

/* Row r into slot k of the block, as the lake stores it (timestamps in the
 * schema's unit). */
static void transpose(struct block *b, const struct row *r, size_t k)
{
	for (int c = 0; c < ncols; c++) {
		int64_t div = cols[c].logical == PARQUET_LT_TIMESTAMP_MILLIS ? 1000 : 1;

		switch (field_of[c]) {
		case F_EVENT_ID:
			set_str(b, c, k, false, r->event_id);
			break;
		case F_USER_ID:
			set_str(b, c, k, false, r->user_id);
			break;
		case F_SONG_ID:
			set_str(b, c, k, false, r->song_id);
			break;
		case F_TS:
			b->i64[c][k] = r->ts / div;
			break;
		case F_COUNTRY:
			set_str(b, c, k, r->no_country, r->country);
			break;
		case F_CITY:
			set_str(b, c, k, r->no_city, r->city);
			break;
		case F_LAT:
		case F_LON:
			b->f64[c][k] = field_of[c] == F_LAT ? r->lat : r->lon;
			b->valid[c][k] = !r->no_geo;
			break;
		case F_DEVICE:
			set_str(b, c, k, r->no_device, r->device);
			break;
		case F_DURATION:
			b->i32[c][k] = r->duration;
			b->valid[c][k] = !r->no_duration;
			break;
		case F_PARTITION:
			b->i32[c][k] = r->partition;
			break;
		case F_OFFSET:
			b->i64[c][k] = r->offset;
			break;
		case F_INGEST:
			b->i64[c][k] = r->ingest / div;
			break;
		}
	}
}

static int put_block(struct parquet_writer *w, const struct block *b, size_t n, struct ts_err *err)
{
	int rc = 0;

	for (int c = 0; !rc && c < ncols; c++) {
		const void *v = cols[c].type == PARQUET_BYTE_ARRAY ? (const void *)b->str[c]
		                : cols[c].type == PARQUET_INT64    ? (const void *)b->i64[c]
		                : cols[c].type == PARQUET_INT32    ? (const void *)b->i32[c]
		                                                   : (const void *)b->f64[c];

		rc = parquet_writer_put_column(w, c, v, cols[c].optional ? b->valid[c] : NULL, n);
	}
	(void)rc; /* errors are sticky: end_rows reports the first, with its message */
	return parquet_writer_end_rows(w, n, err);
}

static int bench_write(const char *path, int64_t rows, const char *codec)
{
	struct parquet_writer_opts o;
	struct parquet_writer *w = NULL;
	struct ts_err err = {0};
	struct zipf songs, users;
	struct row *block = malloc(BLOCK * sizeof(*block));
	struct block *cb = malloc(sizeof(*cb));
	int64_t offsets[NPART] = {0}, t_write = 0, t0;
	uint64_t logical = 0;
	const char *env;

	if (map_schema())
		return 1;
	for (int c = 0; c < ncols; c++)
		cb->arena[c] = malloc(ARENA);
	zipf_init(&songs, NSONGS, 1.1);
	zipf_init(&users, NUSERS, 0.8);
	parquet_writer_opts_init(&o);
	o.no_sync = getenv("PARQUET_BENCH_NO_SYNC") != NULL;
	/* The figures in docs/benchmarks.md were taken with O_DIRECT output, an
	 * option of the writer that is off by default; PARQUET_BENCH_DIRECT=0
	 * measures the default. */
	o.direct_io = !(env = getenv("PARQUET_BENCH_DIRECT")) || strcmp(env, "0");
	o.threads = (env = getenv("PARQUET_BENCH_THREADS")) ? (int)strtol(env, NULL, 10) : 0;
	if ((env = getenv("PARQUET_BENCH_ROW_GROUP")))
		o.row_group_rows = strtoll(env, NULL, 10);
	if (parquet_compress_parse(codec, &o.codec) ||
	    parquet_writer_new_file(path, cols, ncols, &o, &w, &err)) {
		fprintf(stderr, "parquet_bench: %s\n", err.msg);
		return 1;
	}
	for (int64_t i = 0; i < rows; i += BLOCK) {
		int64_t n = rows - i < BLOCK ? rows - i : BLOCK;

		for (int c = 0; c < ncols; c++)
			cb->used[c] = 0;
		for (int64_t k = 0; k < n; k++) {
			gen_row(&block[k], &songs, &users, i + k, rows, offsets);
			logical += logical_bytes(&block[k]);
			transpose(cb, &block[k], (size_t)k);
		}
		t0 = time_mono_us();
		if (put_block(w, cb, (size_t)n, &err)) {
			fprintf(stderr, "parquet_bench: %s\n", err.msg);
			return 1;
		}
		t_write += time_mono_us() - t0;
	}
	t0 = time_mono_us();
	if (parquet_writer_close(w, &err)) {
		fprintf(stderr, "parquet_bench: %s\n", err.msg);
		return 1;
	}
	t_write += time_mono_us() - t0;
	printf("{\"rows\": %lld, \"logical_bytes\": %llu, \"seconds\": %.3f, \"file_bytes\": %llu, "
	       "\"threads\": %d, \"fsync\": %s, \"row_group_rows\": %lld}\n",
	       (long long)rows, (unsigned long long)logical, t_write / 1e6,
	       (unsigned long long)parquet_writer_bytes(w), o.threads, o.no_sync ? "false" : "true",
	       (long long)o.row_group_rows);
	parquet_writer_free(w);
	free(block);
	for (int c = 0; c < ncols; c++)
		free(cb->arena[c]);
	free(cb);
	free(songs.cdf);
	free(users.cdf);
	return 0;
}

/* ---- counting plays per song ---- */

struct counts {
	struct parquet_dict names; /* song id -> index */
	int64_t *n;
	size_t cap;
};

static int64_t *slot(struct counts *c, const uint8_t *p, uint32_t len)
{
	uint32_t ix;

	if (parquet_dict_put_bytes(&c->names, p, len, &ix))
		return NULL;
	if (ix >= c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 1024;

		c->n = realloc(c->n, cap * sizeof(*c->n));
		memset(c->n + c->cap, 0, (cap - c->cap) * sizeof(*c->n));
		c->cap = cap;
	}
	return &c->n[ix];
}

/* Adds a chunk's per-index tallies to the totals by name: the chunk's
 * dictionary is interned in one batch (the names' slots prefetched a block
 * ahead), then each tally goes to its name's counter. Returns 0 or
 * TS_ENOMEM. */
static int fold(struct counts *c, const struct parquet_bytes *dict, const int64_t *tally,
                uint32_t n)
{
	uint32_t *ix = malloc((n ? n : 1) * sizeof(*ix));
	size_t nix = 0;
	int rc = ix ? 0 : TS_ENOMEM;

	if (!rc && parquet_dict_put_many(&c->names, dict, NULL, n, ix, &nix, &rc) != n)
		rc = rc ? rc : TS_ENOMEM;
	if (!rc && c->names.n > c->cap) {
		size_t cap = c->names.n * 2;
		int64_t *grown = realloc(c->n, cap * sizeof(*c->n));

		if (grown) {
			memset(grown + c->cap, 0, (cap - c->cap) * sizeof(*grown));
			c->n = grown;
			c->cap = cap;
		} else {
			rc = TS_ENOMEM;
		}
	}
	for (uint32_t i = 0; !rc && i < n; i++)
		c->n[ix[i]] += tally[i];
	free(ix);
	return rc;
}

static int count_chunk(struct parquet_reader *r, int g, int col, struct counts *c, int64_t *rows,
                       struct ts_err *err)
{
	struct parquet_chunk *ch = NULL;
	struct parquet_batch b;
	int64_t *tally = NULL;
	const struct parquet_bytes *dict = NULL;
	uint32_t dict_n = 0;
	int rc = parquet_chunk_open(r, g, col, &ch, err);

	while (!rc && !(rc = parquet_chunk_next(ch, PARQUET_BATCH_MAX, true, &b, err)) && b.n) {
		*rows += (int64_t)b.n;
		if (b.indices) {
			if (!tally) {
				dict = b.dict;
				dict_n = b.dict_n;
				tally = calloc(dict_n + 1, sizeof(*tally));
			}
			for (size_t i = 0; i < b.n; i++)
				tally[b.indices[i]] += !b.valid || b.valid[i];
			continue;
		}
		const struct parquet_bytes *v = b.values;
		for (size_t i = 0; i < b.n; i++)
			if (!b.valid || b.valid[i])
				(*slot(c, v[i].ptr, v[i].len))++;
	}
	if (!rc && tally && fold(c, dict, tally, dict_n))
		rc = ts_err_set(err, TS_ENOMEM, "counting song ids: out of memory");
	free(tally);
	parquet_chunk_free(ch);
	return rc;
}

static int bench_count(const char *path)
{
	struct parquet_reader *r = NULL;
	struct ts_err err = {0};
	struct counts c = {0};
	int64_t rows = 0, t0 = time_mono_us(), best = -1;
	uint32_t top = 0, len;
	int col, rc;

	parquet_dict_init(&c.names, 0, (size_t)1 << 30);
	rc = parquet_reader_open_file(path, &r, &err);
	col = rc ? -1 : parquet_reader_column(r, "song_id");
	for (int g = 0; !rc && col >= 0 && g < parquet_reader_footer(r)->nrg; g++)
		rc = count_chunk(r, g, col, &c, &rows, &err);
	if (rc || col < 0) {
		fprintf(stderr, "parquet_bench: %s\n", rc ? err.msg : "no song_id column");
		return 1;
	}
	for (uint32_t i = 0; i < c.names.n; i++)
		if (c.n[i] > best)
			best = c.n[i], top = i;
	const uint8_t *name = parquet_dict_value(&c.names, top, &len);
	printf("{\"rows\": %lld, \"songs\": %zu, \"seconds\": %.3f, \"top\": \"%.*s\", "
	       "\"top_plays\": %lld}\n",
	       (long long)rows, c.names.n, (time_mono_us() - t0) / 1e6, (int)len, name,
	       (long long)best);
	parquet_reader_free(r);
	parquet_dict_release(&c.names);
	free(c.n);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "write"))
		return bench_write(argv[2], strtoll(argv[3], NULL, 10), argv[4]);
	if (argc == 3 && !strcmp(argv[1], "count"))
		return bench_count(argv[2]);
	fprintf(stderr, "usage: parquet_bench write FILE ROWS CODEC | count FILE\n");
	return 2;
}
