/*
 * libFuzzer target for the Parquet reader: whole files (footer, page headers,
 * dictionaries, every decoder through the chunk reader, JSON rendering), and,
 * for inputs that are not files, the page header decoder, each value
 * decoder, the RLE hybrid decoder and Thrift skipping on raw bytes. Any
 * crash, sanitizer report, leak or read past a buffer is a bug: bad input
 * must only ever produce an error.
 */
#include "base/common.h"
#include "parquet/parquet_chunk.h"
#include "parquet/parquet_decode.h"
#include "parquet/parquet_json.h"
#include "parquet/parquet_page.h"
#include "parquet/parquet_reader.h"
#include "parquet/parquet_rle.h"
#include "parquet/parquet_thrift.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void read_chunk(struct parquet_reader *r, int g, int c, bool indices, struct dbuf *out)
{
	const struct parquet_footer *f = parquet_reader_footer(r);
	struct parquet_chunk *ch = NULL;
	struct parquet_batch b;
	struct ts_err err;

	if (parquet_chunk_open(r, g, c, &ch, &err))
		return;
	while (!parquet_chunk_next(ch, indices ? 7 : 1000, indices, &b, &err) && b.n) {
		for (size_t i = 0; !indices && i < b.n && i < 4; i++) {
			dbuf_reset(out);
			parquet_json_value(out, &f->cols[c], &b, i);
		}
	}
	parquet_chunk_free(ch);
}

static void fuzz_file(const uint8_t *data, size_t size)
{
	struct parquet_reader *r = NULL;
	struct ts_err err;
	struct dbuf out;

	/* The same bytes as the tail of a longer file (a footer read from an
	 * object store): only the footer may be touched, and chunks outside
	 * the tail are refused. */
	if (!parquet_reader_open_tail(data + 4, size - 4, (uint64_t)size + data[size - 1] * 4096u,
	                              "fuzz-tail", &r, &err)) {
		dbuf_init(&out, 1 << 20);
		if (parquet_reader_footer(r)->nrg && parquet_reader_footer(r)->ncols)
			read_chunk(r, 0, 0, false, &out);
		dbuf_release(&out);
		parquet_reader_free(r);
		r = NULL;
	}
	if (parquet_reader_open_mem(data, size, "fuzz", &r, &err))
		return;
	dbuf_init(&out, 1 << 20);
	const struct parquet_footer *f = parquet_reader_footer(r);
	for (int g = 0; g < f->nrg && g < 8; g++) {
		for (int c = 0; c < f->ncols && c < 32; c++) {
			read_chunk(r, g, c, false, &out);
			read_chunk(r, g, c, true, &out);
			parquet_reader_rg_may_match_int(r, g, c, 0, 100);
			parquet_reader_rg_may_match_bytes(r, g, c, "x", 1);
		}
	}
	dbuf_release(&out);
	parquet_reader_free(r);
}

static void fuzz_decoder(const uint8_t *data, size_t size)
{
	static const int encodings[] = {0, 2, 3, 5, 6, 7, 8, 9};
	uint8_t vals[64 * 16];
	struct parquet_decode d;
	struct ts_err err;
	struct dbuf scratch;
	int type, enc;
	uint64_t n;

	if (size < 4)
		return;
	type = data[1] % 8;
	enc = encodings[data[2] % 8];
	n = data[3] * 7u;
	dbuf_init(&scratch, 1 << 20);
	if (!parquet_decode_init(&d, type, 1 + data[3] % 16, enc, data + 4, data + size, n, &err)) {
		for (uint64_t done = 0; done < n; done += 64) {
			size_t k = n - done < 64 ? (size_t)(n - done) : 64;
			int rc = parquet_decode_is_dict(&d)
			             ? parquet_decode_indices(&d, (uint32_t *)vals, k, &err)
			             : parquet_decode_values(&d, vals, k, &scratch, &err);

			dbuf_reset(&scratch);
			if (rc)
				break;
		}
	}
	parquet_decode_release(&d);
	dbuf_release(&scratch);
}

static void fuzz_rle_and_thrift(const uint8_t *data, size_t size)
{
	struct parquet_rle_dec d;
	struct parquet_thrift_r r;
	struct ts_err err;
	uint32_t out[256];

	if (size < 2)
		return;
	if (!parquet_rle_dec_init(&d, data + 2, data + size, data[1] % 34))
		for (int i = 0; i < 16 && !parquet_rle_dec_get(&d, out, 1 + (size_t)i * 16); i++)
			;
	parquet_thrift_r_init(&r, data + 1, data + size, &err);
	parquet_thrift_r_skip(&r, PQ_T_STRUCT);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct parquet_page_header h;
	const uint8_t *p = data;
	struct ts_err err;

	if (size >= 4 && !memcmp(data, "PAR1", 4)) {
		fuzz_file(data, size);
		return 0;
	}
	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		p = data + 1;
		parquet_page_decode_header(&p, data + size, &h, &err);
		break;
	case 1:
		fuzz_decoder(data, size);
		break;
	default:
		fuzz_rle_and_thrift(data, size);
	}
	return 0;
}
