/*
 * An in-memory table of rows with a fixed flat schema (INT32, INT64, DOUBLE
 * and BYTE_ARRAY columns), filled from Parquet files column by column and
 * written out row by row: what enrich holds of one lake hour. Every value
 * takes an 8-byte slot (strings: offset and length into one arena), so the
 * memory is bounded by max_rows and max_bytes, checked before growing
 * (TS_ETOOBIG).
 *
 * One owner at a time.
 */
#ifndef FLOW_FLOW_ROWS_H
#define FLOW_FLOW_ROWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/dbuf.h"
#include "base/error.h"
#include "parquet/parquet_decode.h"
#include "parquet/parquet_writer.h"

#define FLOW_ROWS_MAX_COLS 16

struct flow_rows {
	const struct parquet_writer_column *schema;
	int ncols;
	size_t n, cap, max_rows;
	uint8_t *valid[FLOW_ROWS_MAX_COLS];
	uint64_t *slot[FLOW_ROWS_MAX_COLS]; /* value bits, or arena offset << 32 | length */
	struct dbuf arena;
};

void flow_rows_init(struct flow_rows *t, const struct parquet_writer_column *schema, int ncols,
                    size_t max_rows, size_t max_bytes);
void flow_rows_release(struct flow_rows *t);
void flow_rows_reset(struct flow_rows *t);

/* Appends every row of the Parquet file buf[0..len) (name for messages).
 * Columns are found by name and must have the schema's type; a column of
 * the schema that the file lacks is TS_ECORRUPT unless it is optional (then
 * all nulls). */
int flow_rows_read(struct flow_rows *t, const void *buf, size_t len, const char *name,
                   struct ts_err *err);

/* Appends row i of src (same schema). */
int flow_rows_copy_row(struct flow_rows *t, const struct flow_rows *src, size_t i,
                       struct ts_err *err);

static inline bool flow_rows_valid(const struct flow_rows *t, int col, size_t i)
{
	return t->valid[col][i];
}
static inline int64_t flow_rows_int(const struct flow_rows *t, int col, size_t i)
{
	return (int64_t)t->slot[col][i];
}
struct parquet_bytes flow_rows_str(const struct flow_rows *t, int col, size_t i);

/* Puts row i's value of column col into column wcol of w. */
int flow_rows_put(const struct flow_rows *t, int col, size_t i, struct parquet_writer *w, int wcol);

#endif
