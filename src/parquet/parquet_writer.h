/*
 * Streaming Parquet writer for flat schemas. Values are put one column at a
 * time for each row, then the row is ended; pages are encoded as they fill
 * and a row group is written out as soon as it reaches its row or byte
 * limit, so memory stays bounded by one row group's compressed pages (two
 * with the helper thread: one being filled, one being written) plus one page
 * per column, whatever the file's total size.
 *
 * Encodings: dictionary (PLAIN dictionary page + RLE_DICTIONARY indices)
 * while the dictionary stays under dict_max_bytes, PLAIN after that (and for
 * BOOLEAN); definition levels RLE/bit-packed. Statistics (min, max, null
 * count) go into every data page header and into the footer.
 *
 * Output goes to a file (written under a temporary name in the same folder,
 * fsync'd and renamed over the target by parquet_writer_close, so the target
 * is never seen half-written) or to a memory buffer (for uploads). With
 * opts.direct_io, files are written with O_DIRECT: the bytes go to the
 * device while the writer encodes the next ones, rather than piling up in
 * the page cache for the fsync (docs/parquet.md).
 *
 * One writer belongs to one thread (it may run one helper thread of its own
 * that compresses pages and writes finished row groups while the caller
 * encodes the next ones; at most 8 jobs are in flight). After any error the writer is unusable:
 * free it (which removes the temporary file).
 */
#ifndef PARQUET_WRITER_H
#define PARQUET_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "parquet/parquet_footer.h"

struct parquet_writer;

/* A column: BOOLEAN, INT32 (PARQUET_LT_DATE allowed), INT64
 * (PARQUET_LT_TIMESTAMP_MILLIS/MICROS, UTC-adjusted), FLOAT, DOUBLE or
 * BYTE_ARRAY (PARQUET_LT_STRING or none). */
struct parquet_writer_column {
	const char *name;
	int type;    /* enum parquet_type */
	int logical; /* enum parquet_logical */
	bool optional;
};

struct parquet_writer_opts {
	int codec;              /* enum parquet_codec; default ZSTD */
	int level;              /* codec level, 0 = default */
	int64_t row_group_rows; /* default 1,048,576 */
	size_t row_group_bytes; /* buffered compressed bytes; default 128 MiB */
	size_t page_bytes;      /* target page size before compression; default 1 MiB */
	uint32_t page_rows; /* at most this many values a page; default 20,000 (small pages compress
	                       better) */
	bool dictionary;    /* default true */
	/* Bit i set: column i (< 64) is PLAIN from its first value. For values
	 * nearly all distinct (ids, offsets, millisecond times), whose
	 * dictionary would be dropped at the first page anyway after a hash-table
	 * probe per value, often a cache miss. Default 0. */
	uint64_t no_dictionary;
	size_t dict_max_bytes; /* dictionary page limit; default 1 MiB */
	bool page_v2;          /* DATA_PAGE_V2 instead of v1; default false */
	size_t mem_max;        /* cap of the memory output; default 4 GiB */
	int threads;           /* 1: compress pages on a helper thread (default); 0: inline */
	bool no_sync;          /* skip the fsyncs (scratch files, benchmarks, or a caller that
	                        * syncs files itself: ingest_files_sync); default false */
	bool direct_io;        /* files: whole 4 KiB blocks with O_DIRECT, sent asynchronously
	                          (Linux AIO) from two 1 MiB staging buffers held while a row group
	                          is written out; the last partial block through the page
	                          cache; plain writes where the file system refuses. Default false */
};

void parquet_writer_opts_init(struct parquet_writer_opts *o);

/* Creates a writer; cols (names included) are copied. */
int parquet_writer_new_file(const char *path, const struct parquet_writer_column *cols, int ncols,
                            const struct parquet_writer_opts *o, struct parquet_writer **out,
                            struct ts_err *err);
int parquet_writer_new_mem(const struct parquet_writer_column *cols, int ncols,
                           const struct parquet_writer_opts *o, struct parquet_writer **out,
                           struct ts_err *err);

/* Adds a footer key-value pair (copied); before close. */
int parquet_writer_add_kv(struct parquet_writer *w, const char *key, const char *value);

/* One value for column col of the current row. Exactly one per column per
 * row; the type must match the column's. TS_EINVAL on misuse (null in a
 * required column, wrong type), TS_ETOOBIG / TS_ENOMEM / TS_EIO otherwise. */
int parquet_writer_put_null(struct parquet_writer *w, int col);
int parquet_writer_put_bool(struct parquet_writer *w, int col, bool v);
int parquet_writer_put_i32(struct parquet_writer *w, int col, int32_t v);
int parquet_writer_put_i64(struct parquet_writer *w, int col, int64_t v);
int parquet_writer_put_float(struct parquet_writer *w, int col, float v);
int parquet_writer_put_double(struct parquet_writer *w, int col, double v);
int parquet_writer_put_bytes(struct parquet_writer *w, int col, const void *p, size_t n);

/* n values for column col at once (the fast path: one column's dictionary
 * stays in cache): values is an array of uint8_t (BOOLEAN), int32_t, int64_t,
 * float, double or struct parquet_bytes (BYTE_ARRAY); valid is NULL or n
 * flags, 0 = null. Every column gets its n values, then
 * parquet_writer_end_rows(w, n). */
int parquet_writer_put_column(struct parquet_writer *w, int col, const void *values,
                              const uint8_t *valid, size_t n);

/* Ends the row (or the n rows put with parquet_writer_put_column): checks
 * each column got its values, writes the row group out once it has
 * row_group_rows rows or more (a batch is never split). Errors carry a
 * message in err. */
int parquet_writer_end_row(struct parquet_writer *w, struct ts_err *err);
int parquet_writer_end_rows(struct parquet_writer *w, size_t n, struct ts_err *err);

/* Rows ended so far; bytes written out so far (row groups flushed). */
int64_t parquet_writer_rows(const struct parquet_writer *w);
uint64_t parquet_writer_bytes(const struct parquet_writer *w);

/* Writes the last row group and the footer; for a file, fsyncs and renames it
 * into place. */
int parquet_writer_close(struct parquet_writer *w, struct ts_err *err);

/* After a successful close of a memory writer: hands over the file bytes
 * (free() them). */
void *parquet_writer_take(struct parquet_writer *w, size_t *len);

/* Frees the writer; removes the temporary file if it was never closed.
 * NULL is a no-op. */
void parquet_writer_free(struct parquet_writer *w);

#endif
