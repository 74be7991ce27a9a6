/*
 * Random round trips through the Parquet writer and reader: random flat
 * schemas (every type we write, required and optional), values with low and
 * high cardinality (so dictionaries stay, fill up and fall back), null
 * patterns, row-group and page sizes, dictionary on and off, page v1 and v2,
 * every codec, and batch sizes; values, null counts and statistics are
 * compared with what was written. Also: files on disk (atomic rename) and
 * row-group pruning.
 */
#include "tests/unit/test.h"

#include "parquet/parquet_chunk.h"
#include "parquet/parquet_compress.h"
#include "parquet/parquet_decode.h"
#include "parquet/parquet_reader.h"
#include "parquet/parquet_writer.h"

#include <math.h>
#include <unistd.h>

static uint64_t rs = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return rs;
}

static uint64_t rndn(uint64_t n)
{
	return n ? rnd() % n : 0;
}

struct tcol {
	struct parquet_writer_column def;
	char name[16];
	int card; /* distinct values, 0 = unbounded */
	int null_pct;
	bool *null;
	int64_t *i;
	double *d;
	char **s;
	uint32_t *slen;
};

static const struct {
	int type, logical;
} kinds[] = {
    {PARQUET_BOOLEAN, PARQUET_LT_NONE},
    {PARQUET_INT32, PARQUET_LT_NONE},
    {PARQUET_INT32, PARQUET_LT_DATE},
    {PARQUET_INT64, PARQUET_LT_NONE},
    {PARQUET_INT64, PARQUET_LT_TIMESTAMP_MILLIS},
    {PARQUET_INT64, PARQUET_LT_TIMESTAMP_MICROS},
    {PARQUET_FLOAT, PARQUET_LT_NONE},
    {PARQUET_DOUBLE, PARQUET_LT_NONE},
    {PARQUET_BYTE_ARRAY, PARQUET_LT_STRING},
    {PARQUET_BYTE_ARRAY, PARQUET_LT_NONE},
};

static void gen_value(struct tcol *c, size_t r)
{
	uint64_t x = c->card ? rndn((uint64_t)c->card) * 0x9e3779b97f4a7c15ULL : rnd();
	size_t len;

	c->null[r] = c->def.optional && (int)rndn(100) < c->null_pct;
	switch (c->def.type) {
	case PARQUET_BOOLEAN:
		c->i[r] = (int64_t)(x >> 63);
		break;
	case PARQUET_INT32:
		c->i[r] = (int32_t)(uint32_t)(x >> 20);
		break;
	case PARQUET_INT64:
		c->i[r] = (int64_t)x;
		break;
	case PARQUET_FLOAT:
		c->d[r] = (float)((double)(int64_t)x / 1e9);
		break;
	case PARQUET_DOUBLE:
		c->d[r] = (double)(int64_t)x / 3e7;
		break;
	default:
		len = (size_t)((x >> 8) % (rndn(10) ? 20 : 300)); /* some over the stats cap */
		if (c->card)
			len = (size_t)((x >> 8) % 24);
		c->s[r] = malloc(len + 1);
		for (size_t k = 0; k < len; k++)
			c->s[r][k] = (char)(((x >> (k % 56)) + k * 7) & 0xff);
		c->slen[r] = (uint32_t)len;
	}
}

static int put(struct parquet_writer *w, int i, struct tcol *c, size_t r)
{
	if (c->null[r])
		return parquet_writer_put_null(w, i);
	switch (c->def.type) {
	case PARQUET_BOOLEAN:
		return parquet_writer_put_bool(w, i, c->i[r] != 0);
	case PARQUET_INT32:
		return parquet_writer_put_i32(w, i, (int32_t)c->i[r]);
	case PARQUET_INT64:
		return parquet_writer_put_i64(w, i, c->i[r]);
	case PARQUET_FLOAT:
		return parquet_writer_put_float(w, i, (float)c->d[r]);
	case PARQUET_DOUBLE:
		return parquet_writer_put_double(w, i, c->d[r]);
	}
	return parquet_writer_put_bytes(w, i, c->s[r], c->slen[r]);
}

/* Compares value `at` of a batch with row r of the column. */
static bool same(const struct tcol *c, const struct parquet_batch *b, size_t at, size_t r)
{
	const void *v = b->values;
	size_t i = at;

	if (c->null[r])
		return b->valid && !b->valid[at];
	if (b->valid && !b->valid[at])
		return false;
	if (b->indices) {
		v = b->dict;
		i = b->indices[at];
		if (i >= b->dict_n)
			return false;
	}
	switch (c->def.type) {
	case PARQUET_BOOLEAN:
		return ((const uint8_t *)v)[i] == (c->i[r] != 0);
	case PARQUET_INT32:
		return ((const int32_t *)v)[i] == (int32_t)c->i[r];
	case PARQUET_INT64:
		return ((const int64_t *)v)[i] == c->i[r];
	case PARQUET_FLOAT:
		return ((const float *)v)[i] == (float)c->d[r];
	case PARQUET_DOUBLE:
		return ((const double *)v)[i] == c->d[r];
	}
	const struct parquet_bytes *s = &((const struct parquet_bytes *)v)[i];
	return s->len == c->slen[r] && !memcmp(s->ptr, c->s[r], s->len);
}

static void check_chunk(struct parquet_reader *r, int g, int col, struct tcol *c, size_t first,
                        size_t rows)
{
	struct parquet_chunk *ch = NULL;
	struct parquet_batch b;
	struct ts_err err = {0};
	size_t at = first, bad = 0;
	bool want_idx = rndn(2);

	REQUIRE(parquet_chunk_open(r, g, col, &ch, &err) == 0);
	for (;;) {
		int rc = parquet_chunk_next(ch, rndn(3) ? rndn(5000) + 1 : 1, want_idx, &b, &err);

		if (rc)
			test_fail(__FILE__, __LINE__, "chunk_next: %s", err.msg);
		if (rc || b.n == 0)
			break;
		for (size_t k = 0; k < b.n && at < first + rows; k++, at++)
			bad += !same(c, &b, k, at);
		if (at > first + rows)
			break;
	}
	CHECK_INT(at, first + rows);
	CHECK_INT(bad, 0);
	parquet_chunk_free(ch);
}

static int ucmp(const char *a, uint32_t alen, const uint8_t *b, uint32_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	return c ? c : (alen > blen) - (alen < blen);
}

/* Min and max of byte arrays in unsigned byte order; none when a value is
 * over the statistics cap. */
static void check_bytes_stats(const struct parquet_chunk_meta *m, const struct tcol *c,
                              size_t first, size_t rows)
{
	bool any = false, too_long = false;
	size_t lo = 0, hi = 0;

	for (size_t r = first; r < first + rows; r++) {
		if (c->null[r])
			continue;
		too_long |= c->slen[r] > PARQUET_MAX_STAT_BYTES;
		if (!any || ucmp(c->s[r], c->slen[r], (const uint8_t *)c->s[lo], c->slen[lo]) < 0)
			lo = r;
		if (!any || ucmp(c->s[r], c->slen[r], (const uint8_t *)c->s[hi], c->slen[hi]) > 0)
			hi = r;
		any = true;
	}
	CHECK(m->stats.has_min == (any && !too_long));
	if (!m->stats.has_min || !any)
		return;
	CHECK(ucmp(c->s[lo], c->slen[lo], m->stats.min, m->stats.min_len) == 0);
	CHECK(ucmp(c->s[hi], c->slen[hi], m->stats.max, m->stats.max_len) == 0);
}

static void check_stats(const struct parquet_chunk_meta *m, const struct tcol *c, size_t first,
                        size_t rows)
{
	int64_t nulls = 0, imin = INT64_MAX, imax = INT64_MIN;

	for (size_t r = first; r < first + rows; r++) {
		nulls += c->null[r];
		if (!c->null[r] && (c->def.type == PARQUET_INT32 || c->def.type == PARQUET_INT64)) {
			imin = c->i[r] < imin ? c->i[r] : imin;
			imax = c->i[r] > imax ? c->i[r] : imax;
		}
	}
	REQUIRE(m->has_stats);
	CHECK_INT(m->stats.null_count, nulls);
	if (c->def.type == PARQUET_BYTE_ARRAY)
		check_bytes_stats(m, c, first, rows);
	CHECK(m->stats.has_min == (nulls < (int64_t)rows || c->def.type == PARQUET_BYTE_ARRAY) ||
	      c->def.type == PARQUET_BYTE_ARRAY);
	if (imin <= imax && m->stats.has_min) {
		int64_t smin = 0, smax = 0;

		if (c->def.type == PARQUET_INT32) {
			int32_t a, b;

			memcpy(&a, m->stats.min, 4);
			memcpy(&b, m->stats.max, 4);
			smin = a;
			smax = b;
		} else {
			memcpy(&smin, m->stats.min, 8);
			memcpy(&smax, m->stats.max, 8);
		}
		CHECK(smin == imin);
		CHECK(smax == imax);
	}
}

static void random_opts(struct parquet_writer_opts *o)
{
	static const int codecs[] = {PARQUET_UNCOMPRESSED, PARQUET_SNAPPY, PARQUET_GZIP,
	                             PARQUET_ZSTD};

	parquet_writer_opts_init(o);
	o->codec = codecs[rndn(4)];
	o->row_group_rows = (int64_t)rndn(3) ? (int64_t)rndn(1500) + 1 : 1 << 20;
	o->page_rows = (uint32_t)(rndn(3) ? rndn(700) + 1 : 1 << 16);
	o->page_bytes = rndn(4) ? 1 << 20 : rndn(5000) + 1;
	o->dictionary = rndn(4) != 0;
	o->no_dictionary = rndn(3) ? 0 : rnd();
	o->dict_max_bytes = rndn(2) ? 1 << 20 : rndn(400) + 1;
	o->page_v2 = rndn(2);
	o->threads = (int)rndn(2);
}

static void free_cols(struct tcol *cols, int ncols, size_t rows)
{
	for (int i = 0; i < ncols; i++) {
		for (size_t r = 0; cols[i].s && r < rows; r++)
			free(cols[i].s[r]);
		free(cols[i].null);
		free(cols[i].i);
		free(cols[i].d);
		free(cols[i].s);
		free(cols[i].slen);
	}
}

static void make_cols(struct tcol *cols, int ncols, size_t rows)
{
	for (int i = 0; i < ncols; i++) {
		struct tcol *c = &cols[i];
		int k = (int)rndn(ARRAY_SIZE(kinds));

		snprintf(c->name, sizeof(c->name), "c%d", i);
		c->def.name = c->name;
		c->def.type = kinds[k].type;
		c->def.logical = kinds[k].logical;
		c->def.optional = rndn(2);
		c->card = rndn(2) ? (int)rndn(300) + 1 : 0;
		c->null_pct = (int)(rndn(4) ? rndn(40) : rndn(2) * 100);
		c->null = calloc(rows + 1, sizeof(bool));
		c->i = calloc(rows + 1, sizeof(int64_t));
		c->d = calloc(rows + 1, sizeof(double));
		c->s = calloc(rows + 1, sizeof(char *));
		c->slen = calloc(rows + 1, sizeof(uint32_t));
		for (size_t r = 0; r < rows; r++)
			gen_value(c, r);
	}
}

static void verify(const void *buf, size_t len, struct tcol *cols, int ncols, size_t rows)
{
	struct parquet_reader *r = NULL;
	struct ts_err err = {0};
	const struct parquet_footer *f;
	size_t first = 0;

	if (parquet_reader_open_mem(buf, len, "roundtrip", &r, &err)) {
		test_fail(__FILE__, __LINE__, "open: %s", err.msg);
		return;
	}
	f = parquet_reader_footer(r);
	CHECK_INT(f->num_rows, rows);
	CHECK_INT(f->ncols, ncols);
	for (int g = 0; g < f->nrg; g++) {
		size_t n = (size_t)f->rgs[g].num_rows;

		for (int i = 0; i < ncols; i++) {
			CHECK_INT(f->cols[i].type, cols[i].def.type);
			CHECK_INT(f->cols[i].logical, cols[i].def.logical);
			CHECK(f->cols[i].optional == cols[i].def.optional);
			check_chunk(r, g, i, &cols[i], first, n);
			check_stats(&f->rgs[g].chunks[i], &cols[i], first, n);
		}
		first += n;
	}
	CHECK_INT(first, rows);
	parquet_reader_free(r);
}

/* Rows [first, first + n) of column c through parquet_writer_put_column. */
static int put_block(struct parquet_writer *w, int i, struct tcol *c, size_t first, size_t n)
{
	size_t es = c->def.type == PARQUET_BYTE_ARRAY ? sizeof(struct parquet_bytes) : 8;
	uint8_t *vals = calloc(n + 1, es), *valid = calloc(n + 1, 1);
	int rc;

	for (size_t k = 0; k < n; k++) {
		size_t r = first + k;

		valid[k] = !c->null[r];
		switch (c->def.type) {
		case PARQUET_BOOLEAN:
			vals[k] = c->i[r] != 0;
			break;
		case PARQUET_INT32:
			((int32_t *)vals)[k] = (int32_t)c->i[r];
			break;
		case PARQUET_INT64:
			((int64_t *)vals)[k] = c->i[r];
			break;
		case PARQUET_FLOAT:
			((float *)vals)[k] = (float)c->d[r];
			break;
		case PARQUET_DOUBLE:
			((double *)vals)[k] = c->d[r];
			break;
		default:
			((struct parquet_bytes *)vals)[k].ptr = (const uint8_t *)c->s[r];
			((struct parquet_bytes *)vals)[k].len = c->slen[r];
		}
	}
	rc = parquet_writer_put_column(w, i, vals, c->def.optional ? valid : NULL, n);
	free(vals);
	free(valid);
	return rc;
}

/* When set, column batches have this size (so row groups end where they
 * would row by row). */
static size_t fixed_batch;

static void write_rows(struct parquet_writer *w, struct tcol *cols, int ncols, size_t rows,
                       bool by_column)
{
	struct ts_err err = {0};

	for (size_t r = 0; r < rows;) {
		size_t n = !by_column ? 1 : fixed_batch ? fixed_batch : rndn(3000) + 1;

		n = n > rows - r ? rows - r : n;
		for (int i = 0; i < ncols; i++) {
			if (by_column)
				put_block(w, i, &cols[i], r, n);
			else
				put(w, i, &cols[i], r);
		}
		if (parquet_writer_end_rows(w, n, &err))
			test_fail(__FILE__, __LINE__, "end_rows: %s", err.msg);
		r += n;
	}
}

static void one_roundtrip(int iter)
{
	struct tcol cols[8];
	struct parquet_writer_opts o;
	struct parquet_writer *w = NULL;
	struct ts_err err = {0};
	int ncols = (int)rndn(8) + 1;
	size_t rows = iter % 10 == 0 ? 0 : rndn(iter % 7 == 0 ? 20000 : 2500), len = 0;
	void *buf;

	memset(cols, 0, sizeof(cols));
	make_cols(cols, ncols, rows);
	random_opts(&o);
	for (int i = 0; i < ncols; i++)
		cols[i].def = cols[i].def; /* descriptors live in cols */
	struct parquet_writer_column defs[8];
	for (int i = 0; i < ncols; i++)
		defs[i] = cols[i].def;
	REQUIRE(parquet_writer_new_mem(defs, ncols, &o, &w, &err) == 0);
	parquet_writer_add_kv(w, "iter", "x");
	write_rows(w, cols, ncols, rows, iter % 3 == 1);
	if (parquet_writer_close(w, &err))
		test_fail(__FILE__, __LINE__, "iteration %d: %s", iter, err.msg);
	buf = parquet_writer_take(w, &len);
	parquet_writer_free(w);
	if (buf)
		verify(buf, len, cols, ncols, rows);
	free(buf);
	free_cols(cols, ncols, rows);
}

TEST(parquet_roundtrip_random)
{
	for (int iter = 0; iter < 150; iter++)
		one_roundtrip(iter);
}

TEST(parquet_file_atomic_and_pruning)
{
	struct parquet_writer_column cols[] = {
	    {"t", PARQUET_INT64, PARQUET_LT_TIMESTAMP_MICROS, false},
	    {"k", PARQUET_BYTE_ARRAY, PARQUET_LT_STRING, true},
	};
	char dir[] = "/tmp/test_parquet_XXXXXX", path[128];
	struct parquet_writer_opts o;
	struct parquet_writer *w = NULL;
	struct parquet_reader *r = NULL;
	struct ts_err err = {0};
	const struct parquet_footer *f;

	REQUIRE(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/out.parquet", dir);
	parquet_writer_opts_init(&o);
	o.row_group_rows = 100;
	REQUIRE(parquet_writer_new_file(path, cols, 2, &o, &w, &err) == 0);
	for (int i = 0; i < 1000; i++) {
		char k[8];

		snprintf(k, sizeof(k), "k%03d", i / 100);
		parquet_writer_put_i64(w, 0, i * 10);
		parquet_writer_put_bytes(w, 1, k, strlen(k));
		REQUIRE(parquet_writer_end_row(w, &err) == 0);
	}
	/* Row groups are already on disk, under the temporary name only. */
	CHECK(parquet_writer_bytes(w) > 1000);
	CHECK(access(path, F_OK) != 0);
	REQUIRE(parquet_writer_close(w, &err) == 0);
	parquet_writer_free(w);
	CHECK(access(path, F_OK) == 0);

	REQUIRE(parquet_reader_open_file(path, &r, &err) == 0);
	f = parquet_reader_footer(r);
	CHECK_INT(f->nrg, 10);
	CHECK_INT(f->num_rows, 1000);
	/* Row group 3 holds t in [3000, 3990] and k = "k003". */
	CHECK(parquet_reader_rg_may_match_int(r, 3, 0, 3500, 3600));
	CHECK(!parquet_reader_rg_may_match_int(r, 3, 0, 4000, 5000));
	CHECK(!parquet_reader_rg_may_match_int(r, 3, 0, 0, 2999));
	CHECK(parquet_reader_rg_may_match_bytes(r, 3, 1, "k003", 4));
	CHECK(!parquet_reader_rg_may_match_bytes(r, 3, 1, "k004", 4));
	parquet_reader_free(r);
	unlink(path);

	/* A writer freed without close leaves nothing behind. */
	REQUIRE(parquet_writer_new_file(path, cols, 2, &o, &w, &err) == 0);
	parquet_writer_put_i64(w, 0, 1);
	parquet_writer_put_null(w, 1);
	parquet_writer_end_row(w, &err);
	parquet_writer_free(w);
	CHECK(access(path, F_OK) != 0);
	CHECK(rmdir(dir) == 0); /* fails if a temporary file was left */

	/* Misuse is reported, not crashed on. */
	REQUIRE(parquet_writer_new_mem(cols, 2, &o, &w, &err) == 0);
	CHECK(parquet_writer_put_null(w, 0) == TS_EINVAL);
	CHECK(parquet_writer_end_row(w, &err) == TS_EINVAL);
	CHECK(strstr(err.msg, "null in required column 't'") != NULL);
	parquet_writer_free(w);
	REQUIRE(parquet_writer_new_mem(cols, 2, &o, &w, &err) == 0);
	parquet_writer_put_i64(w, 0, 1);
	CHECK(parquet_writer_end_row(w, &err) == TS_EINVAL);
	CHECK(strstr(err.msg, "no value for column 'k'") != NULL);
	parquet_writer_free(w);
}

static size_t same_page_bytes; /* write_same's page size; 0 = default */
static size_t same_dict_bytes; /* write_same's dictionary cap; 0 = default */

/* Writes the same rows through a writer configured by `mode`: bit 0 = column
 * batches instead of rows, bit 1 = helper thread. */
static void *write_same(struct tcol *cols, int ncols, size_t rows, int mode, size_t *len)
{
	struct parquet_writer_column defs[8];
	struct parquet_writer_opts o;
	struct parquet_writer *w = NULL;
	struct ts_err err = {0};
	void *buf;

	for (int i = 0; i < ncols; i++)
		defs[i] = cols[i].def;
	parquet_writer_opts_init(&o);
	o.row_group_rows = 30000;
	o.threads = mode >> 1;
	if (same_page_bytes)
		o.page_bytes = same_page_bytes;
	if (same_dict_bytes)
		o.dict_max_bytes = same_dict_bytes;
	if (parquet_writer_new_mem(defs, ncols, &o, &w, &err))
		return NULL;
	write_rows(w, cols, ncols, rows, mode & 1);
	parquet_writer_close(w, &err);
	buf = parquet_writer_take(w, len);
	parquet_writer_free(w);
	return buf;
}

/* Big dictionaries (past the prefetching threshold) and nulls, for each
 * dictionary path of the writer: INT32 and INT64 (fixed-width keys,
 * statistics taken as values are put) and BYTE_ARRAY. With dict_bytes set,
 * dictionaries fill up in the middle of a batch and the chunk goes PLAIN
 * there. Single puts, column batches and the helper thread must all give
 * the same bytes. */
static void paths_give_same_bytes(size_t dict_bytes, bool runs)
{
	static const int types[3] = {PARQUET_INT64, PARQUET_BYTE_ARRAY, PARQUET_INT32};
	struct tcol cols[6];
	size_t rows = 70000, len[4] = {0};
	void *buf[4];

	memset(cols, 0, sizeof(cols));
	make_cols(cols, 6, rows);
	for (int i = 0; i < 6; i++) {
		cols[i].def.type = types[i % 3];
		cols[i].def.logical = PARQUET_LT_NONE;
		cols[i].def.optional = i >= 3;
		cols[i].card = 9000;
		cols[i].null_pct = 10;
		for (size_t r = 0; r < rows; r++) {
			free(cols[i].s[r]);
			cols[i].s[r] = NULL;
			gen_value(&cols[i], r);
			/* In runs: mostly the value of the row before, nulls
			 * falling inside runs (the writer's batch put skips the
			 * probe for a repeated fixed-width value). */
			if (runs && r && rndn(8) && cols[i].def.type != PARQUET_BYTE_ARRAY) {
				cols[i].i[r] = cols[i].i[r - 1];
				cols[i].d[r] = cols[i].d[r - 1];
			}
		}
	}
	fixed_batch = 1000;
	same_dict_bytes = dict_bytes;
	for (int mode = 0; mode < 4; mode++)
		buf[mode] = write_same(cols, 6, rows, mode, &len[mode]);
	fixed_batch = 0;
	same_dict_bytes = 0;
	for (int mode = 1; mode < 4; mode++) {
		CHECK(buf[mode] && len[mode] == len[0]);
		CHECK(buf[mode] && buf[0] && len[mode] == len[0] &&
		      !memcmp(buf[mode], buf[0], len[0]));
	}
	if (buf[0])
		verify(buf[0], len[0], cols, 6, rows);
	for (int mode = 0; mode < 4; mode++)
		free(buf[mode]);
	free_cols(cols, 6, rows);
}

TEST(parquet_writer_paths_give_same_bytes)
{
	paths_give_same_bytes(0, false);
}

TEST(parquet_writer_paths_same_bytes_dictionary_full)
{
	paths_give_same_bytes(20000, false);
}

TEST(parquet_writer_paths_same_bytes_in_runs)
{
	paths_give_same_bytes(0, true);
	paths_give_same_bytes(20000, true);
}

/* Integer dictionary columns take their statistics as values are put: the
 * smallest and largest values, placed first and last in batches, must reach
 * the chunk's statistics, from single puts and from batches alike. */
TEST(parquet_writer_dict_stats_at_batch_edges)
{
	struct tcol cols[4];
	size_t rows = 3000, len = 0;
	void *buf;

	memset(cols, 0, sizeof(cols));
	make_cols(cols, 4, rows);
	for (int i = 0; i < 4; i++) {
		cols[i].def.type = i % 2 ? PARQUET_INT64 : PARQUET_INT32;
		cols[i].def.logical = PARQUET_LT_NONE;
		cols[i].def.optional = i >= 2;
		for (size_t r = 0; r < rows; r++) {
			free(cols[i].s[r]);
			cols[i].s[r] = NULL;
			cols[i].null[r] = cols[i].def.optional && r % 7 == 3;
			cols[i].i[r] = (int64_t)(r % 100);
		}
		cols[i].i[999] = -1000000 - i;  /* last of the first batch */
		cols[i].i[1000] = 1000000 + i;  /* first of the second */
		cols[i].i[2999] = -2000000 - i; /* last of all */
	}
	for (int mode = 0; mode < 2; mode++) {
		fixed_batch = 1000;
		buf = write_same(cols, 4, rows, mode, &len);
		fixed_batch = 0;
		REQUIRE(buf != NULL);
		verify(buf, len, cols, 4, rows);
		free(buf);
	}
	free_cols(cols, 4, rows);
}

/* Distinct values leave the dictionary after the first page, so batches
 * take the PLAIN fast path; small pages end mid-batch on their byte size.
 * Every path must give the bytes of single puts. */
TEST(parquet_writer_plain_paths_give_same_bytes)
{
	static const int types[6] = {PARQUET_INT32, PARQUET_INT64,      PARQUET_DOUBLE,
	                             PARQUET_FLOAT, PARQUET_BYTE_ARRAY, PARQUET_BYTE_ARRAY};
	struct tcol cols[6];
	size_t rows = 40000, len[4] = {0};
	void *buf[4];

	memset(cols, 0, sizeof(cols));
	make_cols(cols, 6, rows);
	for (int i = 0; i < 6; i++) {
		cols[i].def.type = types[i];
		cols[i].def.logical = PARQUET_LT_NONE;
		cols[i].def.optional = i % 2;
		cols[i].card = 0;
		cols[i].null_pct = 15;
		for (size_t r = 0; r < rows; r++) {
			free(cols[i].s[r]);
			cols[i].s[r] = NULL;
			gen_value(&cols[i], r);
		}
	}
	fixed_batch = 750; /* divides the row group size, so row groups match */
	same_page_bytes = 5000;
	for (int mode = 0; mode < 4; mode++)
		buf[mode] = write_same(cols, 6, rows, mode, &len[mode]);
	fixed_batch = 0;
	same_page_bytes = 0;
	for (int mode = 1; mode < 4; mode++)
		CHECK(buf[mode] && buf[0] && len[mode] == len[0] &&
		      !memcmp(buf[mode], buf[0], len[0]));
	if (buf[0])
		verify(buf[0], len[0], cols, 6, rows);
	for (int mode = 0; mode < 4; mode++)
		free(buf[mode]);
	free_cols(cols, 6, rows);
}

static void *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	*len = 0;
	if (!f)
		return NULL;
	if (!fseek(f, 0, SEEK_END) && (n = ftell(f)) >= 0 && !fseek(f, 0, SEEK_SET) &&
	    (buf = malloc((size_t)n + 1)) && fread(buf, 1, (size_t)n, f) == (size_t)n)
		*len = (size_t)n;
	fclose(f);
	return buf;
}

/* Files written with O_DIRECT (staged whole blocks, the tail through the page
 * cache) hold the same bytes as buffered files and memory output, whatever
 * the size's remainder modulo the block, with and without the helper
 * thread. */
TEST(parquet_writer_direct_io_same_bytes)
{
	char dir[] = "/tmp/test_parquet_XXXXXX", path[128];
	struct tcol cols[4];
	size_t rows[] = {1, 3000, 250000}, mlen, flen;

	REQUIRE(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/out.parquet", dir);
	for (size_t k = 0; k < ARRAY_SIZE(rows); k++) {
		memset(cols, 0, sizeof(cols));
		make_cols(cols, 4, rows[k]);
		for (int i = 0; i < 4; i++)
			cols[i].card = 0; /* incompressible: over the 1 MiB stage */
		void *mem = write_same(cols, 4, rows[k], 0, &mlen);

		for (int mode = 0; mem && mode < 4; mode++) {
			struct parquet_writer_column defs[4];
			struct parquet_writer_opts o;
			struct parquet_writer *w = NULL;
			struct ts_err err = {0};

			for (int i = 0; i < 4; i++)
				defs[i] = cols[i].def;
			parquet_writer_opts_init(&o);
			o.row_group_rows = 30000;
			o.direct_io = mode & 1;
			o.threads = mode >> 1;
			o.no_sync = true;
			REQUIRE(parquet_writer_new_file(path, defs, 4, &o, &w, &err) == 0);
			write_rows(w, cols, 4, rows[k], false);
			if (parquet_writer_close(w, &err))
				test_fail(__FILE__, __LINE__, "close: %s", err.msg);
			parquet_writer_free(w);
			void *file = read_file(path, &flen);

			CHECK(file && flen == mlen && !memcmp(file, mem, mlen));
			free(file);
			unlink(path);
		}
		free(mem);
		free_cols(cols, 4, rows[k]);
	}
	CHECK(rmdir(dir) == 0);
}

/* opts.no_dictionary: the flagged column is PLAIN from its first value (no
 * dictionary page, even for 3 distinct values); the others keep theirs. */
TEST(parquet_writer_no_dictionary_columns)
{
	static const struct parquet_writer_column cols[2] = {
	    {"a", PARQUET_INT64, PARQUET_LT_NONE, false},
	    {"b", PARQUET_INT64, PARQUET_LT_NONE, false},
	};
	struct parquet_writer_opts o;
	struct parquet_writer *w = NULL;
	struct parquet_reader *r = NULL;
	const struct parquet_footer *f;
	struct ts_err err = {0};
	size_t len = 0;
	void *buf;

	parquet_writer_opts_init(&o);
	o.no_dictionary = 1u << 1;
	REQUIRE(parquet_writer_new_mem(cols, 2, &o, &w, &err) == 0);
	for (int64_t i = 0; i < 3000; i++) {
		REQUIRE(parquet_writer_put_i64(w, 0, i % 3) == 0);
		REQUIRE(parquet_writer_put_i64(w, 1, i % 3) == 0);
		REQUIRE(parquet_writer_end_row(w, &err) == 0);
	}
	REQUIRE(parquet_writer_close(w, &err) == 0);
	buf = parquet_writer_take(w, &len);
	parquet_writer_free(w);
	REQUIRE(parquet_reader_open_mem(buf, len, "mem", &r, &err) == 0);
	f = parquet_reader_footer(r);
	REQUIRE(f->nrg == 1);
	CHECK(f->rgs[0].chunks[0].dict_page_offset >= 0);
	CHECK(f->rgs[0].chunks[0].encodings & (1u << PARQUET_ENC_RLE_DICTIONARY));
	CHECK(f->rgs[0].chunks[1].dict_page_offset < 0);
	CHECK(!(f->rgs[0].chunks[1].encodings & (1u << PARQUET_ENC_RLE_DICTIONARY)));
	CHECK_INT(f->rgs[0].chunks[1].num_values, 3000);
	parquet_reader_free(r);
	free(buf);
}
