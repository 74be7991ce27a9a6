/*
 * The RLE / bit-packed hybrid encoding, used for definition levels,
 * dictionary indices and RLE booleans, plus the LSB-first bit-packing it is
 * built on (shared with DELTA_BINARY_PACKED).
 *
 *   run header   ULEB128 varint h
 *   h & 1 == 0   RLE run: h >> 1 repeats of one value, stored in
 *                ceil(bit_width / 8) bytes little-endian
 *   h & 1 == 1   bit-packed run: (h >> 1) groups of 8 values, each group
 *                bit_width bytes, values packed LSB first
 *
 * The stream carries no count: the reader is told how many values to take.
 * The decoder is streaming (bounded memory whatever a page claims) and never
 * reads past end; a bit-packed run cut short by the end of the buffer yields
 * only the values that fit, and asking for more is TS_ECORRUPT.
 */
#ifndef PARQUET_RLE_H
#define PARQUET_RLE_H

#include <stddef.h>
#include <stdint.h>

#include "base/dbuf.h"

/* Bits needed for v (0 for 0). */
int parquet_rle_bit_width(uint64_t v);

/* Appends the hybrid encoding of n values (each < 2^bit_width, bit_width <= 32). */
int parquet_rle_encode(struct dbuf *out, const uint32_t *v, size_t n, int bit_width);

struct parquet_rle_dec {
	const uint8_t *p, *end;
	int bit_width;
	uint32_t rle_left, rle_value;
	uint32_t lit_left;  /* values left in the bit-packed run */
	uint64_t lit_next;  /* index of the next value in the run */
	const uint8_t *lit; /* start of the run */
	size_t lit_bytes;   /* bytes of the run actually present */
};

/* TS_ECORRUPT when bit_width is not in 0..32. */
int parquet_rle_dec_init(struct parquet_rle_dec *d, const uint8_t *p, const uint8_t *end,
                         int bit_width);
/* Decodes exactly n values into out; TS_ECORRUPT when the data runs out. */
int parquet_rle_dec_get(struct parquet_rle_dec *d, uint32_t *out, size_t n);

/* Reads value i (bit_width <= 64) of an LSB-first bit-packed array of nbytes.
 * The caller checks that the value's bits lie within nbytes. */
uint64_t parquet_rle_unpack(const uint8_t *p, size_t nbytes, uint64_t i, int bit_width);
/* Appends n values packed LSB first with bit_width bits (<= 64), padded to a byte. */
int parquet_rle_pack(struct dbuf *out, const uint64_t *v, size_t n, int bit_width);

#endif
