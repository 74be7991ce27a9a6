/*
 * Parquet codec unit tests: Thrift compact protocol, RLE hybrid, and random
 * round trips through the writer and reader over random schemas, values, null
 * patterns, row-group and page sizes, and every encoding and codec
 * combination we write.
 */
#include "tests/unit/test.h"

#include "parquet/parquet_chunk.h"
#include "parquet/parquet_compress.h"
#include "parquet/parquet_decode.h"
#include "parquet/parquet_reader.h"
#include "parquet/parquet_rle.h"
#include "parquet/parquet_thrift.h"
#include "parquet/parquet_writer.h"

#include <math.h>

static uint64_t rng_state = 88172645463325252ULL;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static uint64_t rndn(uint64_t n)
{
	return n ? rnd() % n : 0;
}

TEST(parquet_thrift_roundtrip_and_skip)
{
	struct parquet_thrift_w w;
	struct parquet_thrift_r r;
	struct ts_err err = {0};
	struct dbuf b;
	int id, type, seen = 0;
	int32_t v32 = 0;
	int64_t v64 = 0;

	dbuf_init(&b, 1 << 20);
	parquet_thrift_w_init(&w, &b);
	parquet_thrift_w_i32(&w, 1, -7);
	parquet_thrift_w_begin(&w, 2); /* an unknown nested struct to skip */
	parquet_thrift_w_str(&w, 1, "skip me");
	parquet_thrift_w_list(&w, 40, PQ_T_I32, 20);
	for (int i = 0; i < 20; i++)
		parquet_thrift_w_i32_elem(&w, i * 1000);
	parquet_thrift_w_bool(&w, 41, true);
	parquet_thrift_w_end(&w);
	parquet_thrift_w_i64(&w, 300, INT64_MIN);
	REQUIRE(parquet_thrift_w_finish(&w) == 0);

	parquet_thrift_r_init(&r, (const uint8_t *)b.buf, (const uint8_t *)b.buf + b.len, &err);
	REQUIRE(parquet_thrift_r_begin(&r) == 0);
	while (parquet_thrift_r_field(&r, &id, &type) == 0 && type != PQ_T_STOP) {
		if (id == 1)
			CHECK(parquet_thrift_r_i32(&r, type, &v32) == 0);
		else if (id == 300)
			CHECK(parquet_thrift_r_i64(&r, type, &v64) == 0);
		else
			CHECK(parquet_thrift_r_skip(&r, type) == 0);
		seen++;
	}
	CHECK_INT(seen, 3);
	CHECK_INT(v32, -7);
	CHECK(v64 == INT64_MIN);
	CHECK(r.p == r.end);

	/* Every truncation fails cleanly. */
	for (size_t cut = 0; cut < b.len; cut++) {
		int rc = 0;

		parquet_thrift_r_init(&r, (const uint8_t *)b.buf, (const uint8_t *)b.buf + cut,
		                      &err);
		rc = parquet_thrift_r_begin(&r);
		while (!rc && !(rc = parquet_thrift_r_field(&r, &id, &type)) && type != PQ_T_STOP)
			rc = parquet_thrift_r_skip(&r, type);
		CHECK(rc == TS_ECORRUPT);
	}
	dbuf_release(&b);
}

TEST(parquet_thrift_deep_nesting_refused)
{
	uint8_t buf[200];
	struct parquet_thrift_r r;
	struct ts_err err = {0};

	/* A struct field (id 1, type 12) nested 100 deep. */
	memset(buf, 0x1c, sizeof(buf));
	parquet_thrift_r_init(&r, buf, buf + sizeof(buf), &err);
	CHECK(parquet_thrift_r_skip(&r, PQ_T_STRUCT) == TS_ECORRUPT);
	CHECK(strstr(err.msg, "deep") != NULL);
}

TEST(parquet_rle_roundtrip)
{
	uint32_t in[3000], out[3000];
	struct parquet_rle_dec d;
	struct dbuf b;

	dbuf_init(&b, 1 << 20);
	for (int iter = 0; iter < 200; iter++) {
		int bw = (int)rndn(33);
		size_t n = rndn(3000) + 1;
		uint64_t maxv = bw == 32 ? UINT32_MAX : (UINT64_C(1) << bw) - 1;

		for (size_t i = 0; i < n;) {
			uint32_t v = (uint32_t)(rnd() & maxv);
			size_t run = rndn(3) ? 1 : rndn(40) + 1;

			for (; run-- && i < n; i++)
				in[i] = v;
		}
		dbuf_reset(&b);
		REQUIRE(parquet_rle_encode(&b, in, n, bw) == 0);
		REQUIRE(parquet_rle_dec_init(&d, (const uint8_t *)b.buf,
		                             (const uint8_t *)b.buf + b.len, bw) == 0);
		for (size_t i = 0; i < n;) {
			size_t k = rndn(100) + 1;

			k = k > n - i ? n - i : k;
			REQUIRE(parquet_rle_dec_get(&d, out + i, k) == 0);
			i += k;
		}
		CHECK(memcmp(in, out, n * 4) == 0);
	}
	/* Asking for more than the data holds fails; so do bit widths over 32. */
	for (uint32_t i = 0; i < 10; i++)
		in[i] = i % 5;
	dbuf_reset(&b);
	REQUIRE(parquet_rle_encode(&b, in, 10, 3) == 0);
	REQUIRE(parquet_rle_dec_init(&d, (const uint8_t *)b.buf, (const uint8_t *)b.buf + b.len,
	                             3) == 0);
	CHECK(parquet_rle_dec_get(&d, out, 100) == TS_ECORRUPT);
	CHECK(parquet_rle_dec_init(&d, NULL, NULL, 33) == TS_ECORRUPT);
	/* The format's own example: 0..7 at 3 bits is one bit-packed group. */
	for (uint32_t i = 0; i < 8; i++)
		in[i] = i;
	dbuf_reset(&b);
	REQUIRE(parquet_rle_encode(&b, in, 8, 3) == 0);
	CHECK(b.len == 4 && !memcmp(b.buf, "\x03\x88\xc6\xfa", 4));
	dbuf_release(&b);
}

TEST(parquet_compress_bounded)
{
	char in[5000], out[5000];
	int codecs[] = {PARQUET_UNCOMPRESSED, PARQUET_SNAPPY, PARQUET_GZIP, PARQUET_ZSTD};
	struct ts_err err = {0};
	struct dbuf b;

	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (char)(i % 17);
	dbuf_init(&b, 1 << 20);
	for (size_t c = 0; c < ARRAY_SIZE(codecs); c++) {
		dbuf_reset(&b);
		REQUIRE(parquet_compress(codecs[c], 0, in, sizeof(in), &b, &err) == 0);
		CHECK(parquet_compress_undo(codecs[c], b.buf, b.len, out, sizeof(out), &err) == 0);
		CHECK(memcmp(in, out, sizeof(in)) == 0);
		/* A declared size other than the real one is corruption, never
		 * an overflow. */
		CHECK(parquet_compress_undo(codecs[c], b.buf, b.len, out, sizeof(out) - 1, &err) ==
		      TS_ECORRUPT);
		if (b.len > 10)
			CHECK(parquet_compress_undo(codecs[c], b.buf, b.len / 2, out, sizeof(out),
			                            &err) != 0);
	}
	dbuf_release(&b);
}

/* Regression (found by fuzz_parquet): the bytes left for a DELTA_BINARY_PACKED
 * miniblock were measured before its block header was read, so a truncated
 * miniblock was read past the end of the buffer. */
TEST(parquet_dbp_truncated_miniblock)
{
	/* block 128, 4 miniblocks, 40 values, first 0; min delta 0, widths
	 * 8,0,0,0; then 5 of the 32 bytes miniblock 0 needs. */
	static const uint8_t src[] = {0x80, 0x01, 4, 40, 0, 0, 8, 0, 0, 0, 1, 2, 3, 4, 5};
	const uint8_t *buf = src; /* ASan guards globals too: an overread is caught */
	struct parquet_dbp s;
	uint64_t out[40];

	REQUIRE(parquet_decode_dbp_init(&s, buf, buf + sizeof(src), false) == 0);
	CHECK(parquet_decode_dbp_get(&s, out, 6) == 0); /* first + 5 deltas of 8 bits */
	CHECK_INT(out[5], 1 + 2 + 3 + 4 + 5);
	CHECK(parquet_decode_dbp_get(&s, out, 1) == TS_ECORRUPT);
}
