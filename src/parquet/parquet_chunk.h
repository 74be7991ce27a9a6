/*
 * Reading one column chunk (one column of one row group) a batch at a time:
 * pages are located, decompressed and decoded as the batches reach them, so
 * memory is bounded by one compressed chunk, one decompressed page, the
 * dictionary and one batch.
 *
 * For aggregation, dictionary-encoded pages can be read as indices into the
 * chunk's dictionary (want_indices), so a group-by over a dictionary-encoded
 * column need not touch the values. A batch never spans two pages, so each
 * batch is either indices or values.
 *
 * Values are laid out per row (row i at index i, nulls zeroed and flagged in
 * `valid`): bool as uint8_t, INT32 int32_t, INT64 int64_t, FLOAT float,
 * DOUBLE double, BYTE_ARRAY / FIXED_LEN_BYTE_ARRAY / INT96 struct
 * parquet_bytes. Everything a batch points to stays valid until the next
 * call on the chunk.
 */
#ifndef PARQUET_CHUNK_H
#define PARQUET_CHUNK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "parquet/parquet_decode.h"
#include "parquet/parquet_reader.h"

/* The most rows one batch returns. */
#define PARQUET_BATCH_MAX 65536

struct parquet_chunk;

struct parquet_batch {
	size_t n;                /* rows in this batch; 0 at the end of the chunk */
	int type;                /* enum parquet_type */
	const uint8_t *valid;    /* n flags, 1 = not null; NULL when none is null */
	const void *values;      /* n values, NULL when indices is set */
	const uint32_t *indices; /* n dictionary indices (0 for nulls) */
	const void *dict;        /* the dictionary's values, when indices is set */
	uint32_t dict_n;
	int encoding; /* the page's value encoding */
};

/* Opens column col of row group rg; reads the chunk's bytes. */
int parquet_chunk_open(struct parquet_reader *r, int rg, int col, struct parquet_chunk **out,
                       struct ts_err *err);
/* The next batch of at most max rows (<= PARQUET_BATCH_MAX). */
int parquet_chunk_next(struct parquet_chunk *c, size_t max, bool want_indices,
                       struct parquet_batch *b, struct ts_err *err);
void parquet_chunk_free(struct parquet_chunk *c);

#endif
