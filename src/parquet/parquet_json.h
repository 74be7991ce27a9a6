/*
 * JSON rendering of Parquet values, for `topsongs parquet cat` and tests:
 * integers and floats as numbers (NaN and infinities as the strings "NaN",
 * "Infinity", "-Infinity"), booleans as true/false, nulls as null, strings and
 * other byte arrays as JSON strings (bytes >= 0x80 passed through, so UTF-8
 * stays UTF-8; control characters escaped), DATE as "YYYY-MM-DD" and
 * TIMESTAMP as RFC 3339 UTC with millisecond, microsecond or nanosecond
 * digits as stored. Dates and timestamps outside years 1..9999 print as
 * their raw integer.
 */
#ifndef PARQUET_JSON_H
#define PARQUET_JSON_H

#include <stddef.h>

#include "base/dbuf.h"
#include "parquet/parquet_chunk.h"
#include "parquet/parquet_footer.h"

/* Appends row i of batch b (a batch of values, not indices) of column col. */
int parquet_json_value(struct dbuf *out, const struct parquet_column *col,
                       const struct parquet_batch *b, size_t i);

/* Appends n bytes as a JSON string literal. */
int parquet_json_bytes(struct dbuf *out, const uint8_t *p, size_t n);

#endif
