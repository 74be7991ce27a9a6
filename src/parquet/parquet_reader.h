/*
 * Opening a Parquet file (from a path or from memory) and reading its
 * footer: schema, row groups, column chunk metadata and statistics, plus
 * row-group pruning by those statistics. Column data is read through
 * parquet_chunk.h.
 *
 * Every size the file states is checked before use: the footer length
 * against the file size and PARQUET_MAX_FOOTER, chunk ranges against the
 * file size (in parquet_footer_decode), page sizes against their chunk and
 * PARQUET_MAX_PAGE. Errors name the file and the problem.
 *
 * A reader may be used by one thread at a time; it owns its file descriptor
 * or borrows the caller's memory (which must outlive it).
 */
#ifndef PARQUET_READER_H
#define PARQUET_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "parquet/parquet_footer.h"

struct parquet_reader;

int parquet_reader_open_file(const char *path, struct parquet_reader **out, struct ts_err *err);
/* name is used in messages; buf must stay valid until parquet_reader_free. */
int parquet_reader_open_mem(const void *buf, size_t len, const char *name,
                            struct parquet_reader **out, struct ts_err *err);
/*
 * A reader of the footer only, from the last tail_len bytes of a file of
 * file_size bytes (for object stores, where the footer is one ranged read
 * away and the file is not). TS_ETOOBIG when the footer is longer than the
 * tail: read more, or the whole file. Column data lies outside the tail;
 * reading it is TS_ECORRUPT ("range ... is past the end").
 */
int parquet_reader_open_tail(const void *tail, size_t tail_len, uint64_t file_size,
                             const char *name, struct parquet_reader **out, struct ts_err *err);
void parquet_reader_free(struct parquet_reader *r);

/* Reads len bytes of the file at off into dst (an object store's ranged
 * GET, say). */
typedef int (*parquet_fetch_fn)(void *ctx, uint64_t off, size_t len, void *dst, struct ts_err *err);
/* A reader opened by parquet_reader_open_tail then gets the ranges before
 * its tail (column chunks) from fn, instead of failing on them. */
void parquet_reader_set_fetch(struct parquet_reader *r, parquet_fetch_fn fn, void *ctx);

const struct parquet_footer *parquet_reader_footer(const struct parquet_reader *r);
const char *parquet_reader_name(const struct parquet_reader *r);
uint64_t parquet_reader_size(const struct parquet_reader *r);
/* Index of the column called name, or -1. */
int parquet_reader_column(const struct parquet_reader *r, const char *name);

/* Bytes [off, off + len) of the file: *p points at them; *owned is set when
 * they had to be read into a buffer the caller must free(). The range must
 * lie within the file (TS_ECORRUPT otherwise). */
int parquet_reader_range(struct parquet_reader *r, uint64_t off, uint64_t len, const uint8_t **p,
                         uint8_t **owned, struct ts_err *err);

/* Row-group pruning: false only when the chunk statistics prove that no
 * value of column col in row group rg lies in [lo, hi] (for INT32, INT64,
 * DATE and TIMESTAMP columns; hi inclusive). Missing statistics: true. */
bool parquet_reader_rg_may_match_int(const struct parquet_reader *r, int rg, int col, int64_t lo,
                                     int64_t hi);
/* Same for byte-array columns and an exact value. */
bool parquet_reader_rg_may_match_bytes(const struct parquet_reader *r, int rg, int col,
                                       const void *v, size_t n);

#endif
