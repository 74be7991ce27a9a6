/*
 * Page compression: UNCOMPRESSED, SNAPPY (libsnappy's C API), GZIP (zlib,
 * gzip or zlib framing on read) and ZSTD (libzstd). Decompression always
 * writes into a buffer of exactly the size the page header declares (which
 * the caller has checked against its cap) and fails unless the output fills
 * it exactly, so a decompression bomb can never make us allocate or write
 * more than that.
 */
#ifndef PARQUET_COMPRESS_H
#define PARQUET_COMPRESS_H

#include <stddef.h>
#include <stdint.h>

#include "base/dbuf.h"
#include "base/error.h"

/* Codec ids as in parquet.thrift's CompressionCodec. */
enum parquet_codec {
	PARQUET_UNCOMPRESSED = 0,
	PARQUET_SNAPPY = 1,
	PARQUET_GZIP = 2,
	PARQUET_LZO = 3,
	PARQUET_BROTLI = 4,
	PARQUET_LZ4 = 5,
	PARQUET_ZSTD = 6,
	PARQUET_LZ4_RAW = 7,
};

/* "SNAPPY", ...; "?" for unknown ids. */
const char *parquet_compress_name(int codec);
/* Parses "none"/"uncompressed", "snappy", "gzip", "zstd" (any case). */
int parquet_compress_parse(const char *s, int *codec);
/* Whether we can read (and, except GZIP, write) pages with this codec. */
int parquet_compress_supported(int codec);

/* Appends the compressed form of (in, n) to out. level is used by ZSTD and
 * GZIP (0 = the library default). */
int parquet_compress(int codec, int level, const void *in, size_t n, struct dbuf *out,
                     struct ts_err *err);

/* Before allocating out_size bytes for a page: whether (in, n) can plausibly
 * decompress to that size — snappy's and zstd's own length headers must
 * agree, gzip may not claim more than deflate's ratio limit, uncompressed
 * sizes must be equal. TS_ECORRUPT with err otherwise. */
int parquet_compress_check(int codec, const void *in, size_t n, size_t out_size,
                           struct ts_err *err);

/* Decompresses (in, n) into out, which holds exactly out_size bytes. */
int parquet_compress_undo(int codec, const void *in, size_t n, void *out, size_t out_size,
                          struct ts_err *err);

#endif
