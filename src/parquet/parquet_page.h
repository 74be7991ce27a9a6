/*
 * Page headers (parquet.thrift's PageHeader and the per-type headers inside
 * it): the model, its Thrift encoding and its bounded decoding.
 *
 * A column chunk is a run of pages, each a Thrift PageHeader followed by
 * compressed_page_size bytes:
 *
 *   PageHeader           1 type (0 DATA_PAGE, 2 DICTIONARY_PAGE, 3 DATA_PAGE_V2),
 *                        2 uncompressed_page_size, 3 compressed_page_size, 4 crc,
 *                        5 DataPageHeader, 7 DictionaryPageHeader,
 *                        8 DataPageHeaderV2
 *   DataPageHeader       1 num_values, 2 encoding, 3 definition_level_encoding,
 *                        4 repetition_level_encoding, 5 statistics
 *   DictionaryPageHeader 1 num_values, 2 encoding, 3 is_sorted
 *   DataPageHeaderV2     1 num_values, 2 num_nulls, 3 num_rows, 4 encoding,
 *                        5 definition_levels_byte_length,
 *                        6 repetition_levels_byte_length, 7 is_compressed,
 *                        8 statistics
 *
 * Page body, data page v1 (all of it compressed):
 *   [4-byte LE length + RLE repetition levels]   only when max_rep > 0
 *   [4-byte LE length + RLE definition levels]   only when max_def > 0
 *   values in the page's encoding
 * Data page v2: repetition levels, then definition levels (RLE, no length
 * prefix, never compressed; sizes in the header), then the values,
 * compressed unless is_compressed is false.
 * Dictionary page: num_values PLAIN values.
 */
#ifndef PARQUET_PAGE_H
#define PARQUET_PAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "base/dbuf.h"
#include "base/error.h"
#include "parquet/parquet_footer.h"

/* The largest page (compressed or not) we accept: far above the ~1 MiB pages
 * writers produce, low enough that a hostile header cannot exhaust memory. */
#ifdef FUZZING
#define PARQUET_MAX_PAGE (8u << 20) /* keeps the fuzzer's memory in check */
#else
#define PARQUET_MAX_PAGE (256u << 20)
#endif

enum parquet_page_type {
	PARQUET_PAGE_DATA = 0,
	PARQUET_PAGE_INDEX = 1,
	PARQUET_PAGE_DICTIONARY = 2,
	PARQUET_PAGE_DATA_V2 = 3,
};

struct parquet_page_header {
	int type;
	int32_t uncompressed_size, compressed_size;
	int32_t num_values, num_nulls, num_rows;
	int encoding, def_encoding, rep_encoding;
	int32_t def_len, rep_len; /* v2 */
	bool is_compressed;       /* v2; true otherwise */
	bool has_stats;
	struct parquet_stats stats;
};

/* Appends the Thrift encoding of h. */
int parquet_page_encode_header(const struct parquet_page_header *h, struct dbuf *out);

/* Decodes the header at *p (never past end), advancing *p to the page body.
 * Checks: sizes non-negative and <= PARQUET_MAX_PAGE, the body within end,
 * a sub-header present for the page type, counts non-negative. */
int parquet_page_decode_header(const uint8_t **p, const uint8_t *end, struct parquet_page_header *h,
                               struct ts_err *err);

#endif
