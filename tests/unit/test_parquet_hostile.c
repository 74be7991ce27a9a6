/*
 * Hostile and broken Parquet input: wrong magic, footers past the file,
 * truncation at every length, page sizes past their chunk, dictionary
 * indices out of range, bit widths over 32, absurd value counts, deep
 * nesting and decompression bombs. Each must give a clear error (checked by
 * its message), never a crash, an overread or a huge allocation — the
 * sanitizer build runs these too.
 */
#include "tests/unit/test.h"

#include "parquet/parquet_chunk.h"
#include "parquet/parquet_compress.h"
#include "parquet/parquet_page.h"
#include "parquet/parquet_reader.h"
#include "parquet/parquet_writer.h"

/* A valid little file from our writer. */
static void *small_file(size_t *len, int codec)
{
	struct parquet_writer_column cols[] = {
	    {"id", PARQUET_INT64, PARQUET_LT_NONE, false},
	    {"name", PARQUET_BYTE_ARRAY, PARQUET_LT_STRING, true},
	};
	struct parquet_writer_opts o;
	struct parquet_writer *w = NULL;
	struct ts_err err = {0};
	void *buf;

	parquet_writer_opts_init(&o);
	o.codec = codec;
	o.row_group_rows = 40;
	o.page_rows = 16;
	if (parquet_writer_new_mem(cols, 2, &o, &w, &err))
		return NULL;
	for (int i = 0; i < 100; i++) {
		char s[16];

		snprintf(s, sizeof(s), "n%d", i % 7);
		parquet_writer_put_i64(w, 0, i);
		if (i % 3)
			parquet_writer_put_bytes(w, 1, s, strlen(s));
		else
			parquet_writer_put_null(w, 1);
		parquet_writer_end_row(w, &err);
	}
	parquet_writer_close(w, &err);
	buf = parquet_writer_take(w, len);
	parquet_writer_free(w);
	return buf;
}

/* Opens and reads every chunk; returns the first error (0 if none). */
static int read_all(const void *buf, size_t len, struct ts_err *err)
{
	struct parquet_reader *r = NULL;
	const struct parquet_footer *f;
	int rc = parquet_reader_open_mem(buf, len, "bad.parquet", &r, err);

	if (rc)
		return rc;
	f = parquet_reader_footer(r);
	for (int g = 0; !rc && g < f->nrg; g++) {
		for (int c = 0; !rc && c < f->ncols; c++) {
			struct parquet_chunk *ch = NULL;
			struct parquet_batch b;

			rc = parquet_chunk_open(r, g, c, &ch, err);
			while (!rc && !(rc = parquet_chunk_next(ch, 10, false, &b, err)) && b.n)
				;
			parquet_chunk_free(ch);
		}
	}
	parquet_reader_free(r);
	return rc;
}

#define EXPECT_ERR(rc, err, text)                                                                  \
	do {                                                                                       \
		CHECK((rc) != 0);                                                                  \
		if (!strstr((err).msg, (text)) || !strstr((err).msg, "bad.parquet"))               \
			test_fail(__FILE__, __LINE__, "message '%s' lacks '%s'", (err).msg,        \
			          (text));                                                         \
	} while (0)

TEST(parquet_hostile_magic_and_footer)
{
	struct ts_err err = {0};
	size_t len = 0;
	uint8_t *f = small_file(&len, PARQUET_SNAPPY);
	uint32_t huge = 0xfffffff0u;

	REQUIRE(f);
	CHECK(read_all(f, len, &err) == 0);
	f[0] = 'X';
	EXPECT_ERR(read_all(f, len, &err), err, "no PAR1 at the start");
	f[0] = 'P';
	f[len - 1] = 'X';
	EXPECT_ERR(read_all(f, len, &err), err, "no PAR1 at the end");
	f[len - 1] = '1';
	memcpy(f + len - 8, &huge, 4);
	EXPECT_ERR(read_all(f, len, &err), err, "footer length");
	EXPECT_ERR(read_all(f, 7, &err), err, "too short");
	free(f);
}

/* The footer from every tail length: the same footer as from the whole file
 * once the tail holds it, TS_ETOOBIG (read more) before that, and column data
 * outside the tail refused, not read. */
TEST(parquet_reader_tail_every_length)
{
	struct ts_err err = {0};
	size_t len = 0;
	uint8_t *f = small_file(&len, PARQUET_SNAPPY);
	struct parquet_reader *whole = NULL, *r = NULL;
	struct parquet_chunk *ch = NULL;
	uint32_t flen;
	size_t need;

	REQUIRE(f);
	REQUIRE(parquet_reader_open_mem(f, len, "bad.parquet", &whole, &err) == 0);
	memcpy(&flen, f + len - 8, 4);
	need = (size_t)flen + 8;
	for (size_t t = 0; t <= len; t++) {
		int rc = parquet_reader_open_tail(f + len - t, t, len, "bad.parquet", &r, &err);

		if (t < need) {
			CHECK(rc == TS_ETOOBIG);
			CHECK(r == NULL);
			continue;
		}
		REQUIRE(rc == 0);
		CHECK(parquet_reader_footer(r)->num_rows == parquet_reader_footer(whole)->num_rows);
		CHECK(parquet_reader_footer(r)->nrg == parquet_reader_footer(whole)->nrg);
		CHECK(parquet_reader_size(r) == len);
		if (t < len - 4) {
			/* the first chunk starts at byte 4, outside the tail */
			rc = parquet_chunk_open(r, 0, 0, &ch, &err);
			if (!rc) {
				struct parquet_batch b;

				rc = parquet_chunk_next(ch, 10, false, &b, &err);
			}
			CHECK(rc == TS_ECORRUPT);
			parquet_chunk_free(ch);
			ch = NULL;
		}
		parquet_reader_free(r);
		r = NULL;
	}
	/* a tail cannot be longer than its file; a damaged tail is corrupt */
	CHECK(parquet_reader_open_tail(f, len, len - 1, "bad.parquet", &r, &err) == TS_EINVAL);
	f[len - 1] = 'X';
	EXPECT_ERR(parquet_reader_open_tail(f + len - need, need, len, "bad.parquet", &r, &err),
	           err, "no PAR1 at the end");
	parquet_reader_free(whole);
	free(f);
}

/* A tail reader given a fetch (an object store's ranged GET) reads the
 * chunks before its tail through it: every id of every row group, each
 * range asked for inside the file; a failing fetch fails the chunk. */
struct fetch_ctx {
	const uint8_t *file;
	size_t len;
	int calls, fail;
};

static int fetch_from(void *ctx, uint64_t off, size_t len, void *dst, struct ts_err *err)
{
	struct fetch_ctx *f = ctx;

	f->calls++;
	if (f->fail || off > f->len || len > f->len - off)
		return ts_err_set(err, TS_EIO, "fetch of %zu bytes at %llu refused", len,
		                  (unsigned long long)off);
	memcpy(dst, f->file + off, len);
	return 0;
}

TEST(parquet_reader_tail_with_fetch)
{
	struct ts_err err = {0};
	size_t len = 0, need;
	uint8_t *f = small_file(&len, PARQUET_SNAPPY);
	struct fetch_ctx ctx = {0};
	struct parquet_reader *r = NULL;
	struct parquet_chunk *ch = NULL;
	struct parquet_batch b;
	uint32_t flen;
	int64_t next = 0;

	REQUIRE(f);
	memcpy(&flen, f + len - 8, 4);
	need = (size_t)flen + 8;
	ctx = (struct fetch_ctx){f, len, 0, 0};
	REQUIRE(parquet_reader_open_tail(f + len - need, need, len, "t.parquet", &r, &err) == 0);
	parquet_reader_set_fetch(r, fetch_from, &ctx);
	for (int rg = 0; rg < parquet_reader_footer(r)->nrg; rg++) {
		REQUIRE(parquet_chunk_open(r, rg, 0, &ch, &err) == 0);
		while (parquet_chunk_next(ch, 10, false, &b, &err) == 0 && b.n)
			for (size_t i = 0; i < b.n; i++)
				CHECK(((const int64_t *)b.values)[i] == next++);
		parquet_chunk_free(ch);
	}
	CHECK(next == 100);
	CHECK(ctx.calls == parquet_reader_footer(r)->nrg);
	ctx.fail = 1;
	CHECK(parquet_chunk_open(r, 0, 1, &ch, &err) == TS_EIO);
	CHECK(strstr(err.msg, "refused") != NULL);
	parquet_reader_free(r);
	free(f);
}

TEST(parquet_hostile_truncated_everywhere)
{
	struct ts_err err = {0};
	size_t len = 0;
	uint8_t *f = small_file(&len, PARQUET_ZSTD);

	REQUIRE(f);
	/* Every prefix (its own PAR1 tail gone) and every file with a byte of
	 * its middle cut out fails cleanly. */
	for (size_t cut = 0; cut < len; cut++) {
		uint8_t *p = malloc(len);

		memcpy(p, f, cut);
		CHECK(read_all(p, cut, &err) != 0);
		memcpy(p + cut, f + cut + 1, len - cut - 1);
		read_all(p, len - 1, &err); /* may or may not fail; must not crash */
		free(p);
	}
	free(f);
}

TEST(parquet_hostile_flipped_bytes)
{
	struct ts_err err = {0};
	size_t len = 0;
	uint8_t *f = small_file(&len, PARQUET_UNCOMPRESSED);

	REQUIRE(f);
	for (size_t i = 4; i < len - 8; i++) {
		for (int bit = 0; bit < 8; bit += 3) {
			f[i] ^= (uint8_t)(1 << bit);
			read_all(f, len, &err); /* any outcome but a crash */
			f[i] ^= (uint8_t)(1 << bit);
		}
	}
	CHECK(read_all(f, len, &err) == 0);
	free(f);
}

/* ---- hand-built files: one column chunk of chosen pages ---- */

static void add_page(struct dbuf *chunk, struct parquet_page_header *h, const void *body, size_t n)
{
	parquet_page_encode_header(h, chunk);
	dbuf_add(chunk, body, n);
}

static void build(struct dbuf *file, int type, bool optional, int64_t num_values,
                  const struct dbuf *chunk, bool has_dict)
{
	struct parquet_column col = {"x", type, 0, optional, 0, false, -1};
	struct parquet_chunk_meta m;
	struct parquet_row_group rg = {num_values, (int64_t)chunk->len, &m};
	struct parquet_footer f;
	uint32_t flen;
	size_t at;

	memset(&m, 0, sizeof(m));
	m.type = type;
	m.codec = PARQUET_UNCOMPRESSED;
	m.num_values = num_values;
	m.total_compressed = m.total_uncompressed = (int64_t)chunk->len;
	m.dict_page_offset = has_dict ? 4 : -1;
	m.data_page_offset = has_dict ? 5 : 4; /* only its order matters */
	memset(&f, 0, sizeof(f));
	f.ncols = 1;
	f.cols = &col;
	f.nrg = 1;
	f.rgs = &rg;
	f.num_rows = num_values;
	dbuf_add(file, "PAR1", 4);
	dbuf_add(file, chunk->buf, chunk->len);
	at = file->len;
	parquet_footer_encode(&f, file);
	flen = (uint32_t)(file->len - at);
	dbuf_add(file, &flen, 4);
	dbuf_add(file, "PAR1", 4);
}

static struct parquet_page_header data_header(int32_t n, int enc, int32_t size)
{
	struct parquet_page_header h;

	memset(&h, 0, sizeof(h));
	h.type = PARQUET_PAGE_DATA;
	h.num_values = n;
	h.encoding = enc;
	h.def_encoding = h.rep_encoding = PARQUET_ENC_RLE;
	h.uncompressed_size = h.compressed_size = size;
	return h;
}

static struct parquet_page_header dict_header(int32_t n, int32_t size)
{
	struct parquet_page_header h = data_header(n, PARQUET_ENC_PLAIN, size);

	h.type = PARQUET_PAGE_DICTIONARY;
	return h;
}

TEST(parquet_hostile_pages)
{
	struct dbuf chunk, file;
	struct ts_err err = {0};
	struct parquet_page_header h;
	int64_t vals[2] = {10, 20};
	uint8_t idx_bad[] = {2, 0x06, 3};   /* bit width 2, RLE run of 3 x value 3 */
	uint8_t idx_wide[] = {40, 0x06, 1}; /* bit width 40 */
	uint8_t idx_ok[] = {1, 0x06, 1};    /* bit width 1, 3 x value 1 */

	dbuf_init(&chunk, 1 << 20);
	dbuf_init(&file, 1 << 20);

	/* Sanity: the hand-built file reads. */
	h = dict_header(2, 16);
	add_page(&chunk, &h, vals, 16);
	h = data_header(3, PARQUET_ENC_RLE_DICTIONARY, 3);
	add_page(&chunk, &h, idx_ok, 3);
	build(&file, PARQUET_INT64, false, 3, &chunk, true);
	CHECK(read_all(file.buf, file.len, &err) == 0);

	/* Dictionary index out of range. */
	dbuf_reset(&chunk), dbuf_reset(&file);
	h = dict_header(2, 16);
	add_page(&chunk, &h, vals, 16);
	h = data_header(3, PARQUET_ENC_RLE_DICTIONARY, 3);
	add_page(&chunk, &h, idx_bad, 3);
	build(&file, PARQUET_INT64, false, 3, &chunk, true);
	EXPECT_ERR(read_all(file.buf, file.len, &err), err, "dictionary index 3 out of range");

	/* Bit width over 32. */
	dbuf_reset(&chunk), dbuf_reset(&file);
	h = dict_header(2, 16);
	add_page(&chunk, &h, vals, 16);
	h = data_header(3, PARQUET_ENC_RLE_DICTIONARY, 3);
	add_page(&chunk, &h, idx_wide, 3);
	build(&file, PARQUET_INT64, false, 3, &chunk, true);
	EXPECT_ERR(read_all(file.buf, file.len, &err), err, "bit width 40 is over 32");

	/* Page size past the chunk. */
	dbuf_reset(&chunk), dbuf_reset(&file);
	h = data_header(2, PARQUET_ENC_PLAIN, 1000);
	add_page(&chunk, &h, vals, 16);
	build(&file, PARQUET_INT64, false, 2, &chunk, false);
	EXPECT_ERR(read_all(file.buf, file.len, &err), err, "runs past the end of its column");

	/* Absurd value counts: more than the chunk, and more than the page holds. */
	dbuf_reset(&chunk), dbuf_reset(&file);
	h = data_header(INT32_MAX, PARQUET_ENC_PLAIN, 16);
	add_page(&chunk, &h, vals, 16);
	build(&file, PARQUET_INT64, false, 2, &chunk, false);
	EXPECT_ERR(read_all(file.buf, file.len, &err), err, "more values than its column chunk");
	dbuf_reset(&chunk), dbuf_reset(&file);
	h = data_header(INT32_MAX, PARQUET_ENC_PLAIN, 16);
	add_page(&chunk, &h, vals, 16);
	build(&file, PARQUET_INT64, false, INT32_MAX, &chunk, false);
	EXPECT_ERR(read_all(file.buf, file.len, &err), err, "PLAIN values run past the page");

	/* A dictionary claiming more entries than its bytes. */
	dbuf_reset(&chunk), dbuf_reset(&file);
	h = dict_header(1000000, 16);
	add_page(&chunk, &h, vals, 16);
	build(&file, PARQUET_INT64, false, 3, &chunk, true);
	EXPECT_ERR(read_all(file.buf, file.len, &err), err, "more entries than its page");

	dbuf_release(&chunk);
	dbuf_release(&file);
}

TEST(parquet_hostile_decompression_bomb)
{
	char zeros[4096] = {0};
	struct ts_err err = {0};
	struct dbuf comp;

	dbuf_init(&comp, 1 << 20);
	REQUIRE(parquet_compress(PARQUET_ZSTD, 0, zeros, sizeof(zeros), &comp, &err) == 0);
	/* Declaring 200 MB for a few bytes is refused before any allocation. */
	CHECK(parquet_compress_check(PARQUET_ZSTD, comp.buf, comp.len, 200u << 20, &err) ==
	      TS_ECORRUPT);
	CHECK(strstr(err.msg, "cannot hold") != NULL);
	CHECK(parquet_compress_check(PARQUET_ZSTD, comp.buf, comp.len, sizeof(zeros), &err) == 0);
	dbuf_reset(&comp);
	REQUIRE(parquet_compress(PARQUET_SNAPPY, 0, zeros, sizeof(zeros), &comp, &err) == 0);
	CHECK(parquet_compress_check(PARQUET_SNAPPY, comp.buf, comp.len, 100u << 20, &err) ==
	      TS_ECORRUPT);
	dbuf_reset(&comp);
	REQUIRE(parquet_compress(PARQUET_GZIP, 0, zeros, sizeof(zeros), &comp, &err) == 0);
	CHECK(parquet_compress_check(PARQUET_GZIP, comp.buf, comp.len, 100u << 20, &err) ==
	      TS_ECORRUPT);
	dbuf_release(&comp);
}

TEST(parquet_hostile_deep_footer)
{
	uint8_t file[4 + 600 + 8];
	uint32_t flen = 600;
	struct ts_err err = {0};

	memcpy(file, "PAR1", 4);
	/* Struct field 100 (long form: 0x0c, zigzag varint 100), nested
	 * without end: skipped as unknown, level after level. */
	for (int i = 0; i < 600; i += 3)
		memcpy(file + 4 + i, "\x0c\xc8\x01", 3);
	memcpy(file + 604, &flen, 4);
	memcpy(file + 608, "PAR1", 4);
	EXPECT_ERR(read_all(file, sizeof(file), &err), err, "nested too deep");
}
