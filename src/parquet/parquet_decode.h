/*
 * Value decoders for one data page's values section, streaming (a batch at a
 * time, memory bounded by the batch whatever the page claims) and bounded by
 * (ptr, end):
 *
 *   PLAIN                    fixed-width little-endian values; BOOLEAN one
 *                            bit each, LSB first; BYTE_ARRAY a 4-byte LE
 *                            length then the bytes; FIXED_LEN_BYTE_ARRAY and
 *                            INT96 type_length (12) bytes each
 *   RLE (BOOLEAN)            4-byte LE length, then RLE hybrid, bit width 1
 *   RLE_DICTIONARY,          1 byte bit width (<= 32), then RLE hybrid
 *   PLAIN_DICTIONARY         indices (no length prefix)
 *   DELTA_BINARY_PACKED      header <block size> <miniblocks per block>
 *                            <total count> <first value (zigzag)>, then blocks
 *                            <min delta (zigzag)> <one bit-width byte per
 *                            miniblock> <miniblocks, bit-packed LSB first>;
 *                            arithmetic wraps (unsigned)
 *   DELTA_LENGTH_BYTE_ARRAY  DELTA_BINARY_PACKED lengths, then the bytes
 *   DELTA_BYTE_ARRAY         DELTA_BINARY_PACKED prefix lengths, then the
 *                            suffixes as DELTA_LENGTH_BYTE_ARRAY
 *   BYTE_STREAM_SPLIT        K streams of N bytes (K = value width): byte j of
 *                            value i at offset j * N + i
 *
 * Output is dense (non-null values only): bool as uint8_t, INT32 int32_t,
 * INT64 int64_t, FLOAT float, DOUBLE double, byte arrays (and INT96, FLBA)
 * struct parquet_bytes pointing into the page, or into the scratch buffer
 * for DELTA_BYTE_ARRAY (valid until the next call).
 */
#ifndef PARQUET_DECODE_H
#define PARQUET_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/dbuf.h"
#include "base/error.h"
#include "parquet/parquet_rle.h"

struct parquet_bytes {
	const uint8_t *ptr;
	uint32_t len;
};

/* DELTA_BINARY_PACKED stream state. */
struct parquet_dbp {
	const uint8_t *p, *end;
	uint32_t block_size, nmini, per_mini;
	uint64_t left; /* values still to produce */
	uint64_t last;
	bool first_pending, is32;
	uint64_t min_delta;
	uint8_t widths[256];
	uint32_t mini_i, in_mini;
	const uint8_t *mini;
	size_t mini_bytes;
	bool in_block, mini_open;
};

struct parquet_decode {
	int type, encoding;
	int width; /* bytes per fixed-width value */
	const uint8_t *p, *end, *start;
	uint64_t left; /* values the page still holds */
	uint64_t bit;  /* PLAIN BOOLEAN */
	struct parquet_rle_dec rle;
	struct parquet_dbp lens, prefixes;
	uint64_t bss_n, bss_i;
	struct dbuf prev; /* DELTA_BYTE_ARRAY: the last value */
};

/* Sizes of one decoded value in the output array. */
size_t parquet_decode_elem_size(int type);

/* Sets d up for nvalues non-null values of a page section in `encoding`.
 * TS_EINVAL for an encoding we do not read for this type, TS_ECORRUPT for a
 * bad header. */
int parquet_decode_init(struct parquet_decode *d, int type, int32_t type_length, int encoding,
                        const uint8_t *p, const uint8_t *end, uint64_t nvalues, struct ts_err *err);
void parquet_decode_release(struct parquet_decode *d);

/* Whether the section holds dictionary indices. */
bool parquet_decode_is_dict(const struct parquet_decode *d);
/* Dictionary pages: the next n indices (not range-checked here). */
int parquet_decode_indices(struct parquet_decode *d, uint32_t *out, size_t n, struct ts_err *err);
/* The next n values into out (elem_size each). scratch holds materialised
 * byte arrays; the caller resets it between batches. */
int parquet_decode_values(struct parquet_decode *d, void *out, size_t n, struct dbuf *scratch,
                          struct ts_err *err);

/* DELTA_BINARY_PACKED, exposed for the other delta encodings and tests. */
int parquet_decode_dbp_init(struct parquet_dbp *s, const uint8_t *p, const uint8_t *end, bool is32);
int parquet_decode_dbp_get(struct parquet_dbp *s, uint64_t *out, size_t n);
/* Decodes what is left and returns where the stream ends. */
int parquet_decode_dbp_end(struct parquet_dbp *s, const uint8_t **endp);

#endif
