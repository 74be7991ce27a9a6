/*
 * COPY ... FROM STDIN (text format) through libpq, for bulk writes without
 * building SQL from data: values are escaped into COPY's text format and
 * sent in chunks of FLOW_COPY_CHUNK bytes, so memory stays bounded.
 *
 * Usage: flow_copy_begin(db, "COPY t (a, b) FROM STDIN", &c); then per row
 * flow_copy_str/int/null (or an array) for each column and
 * flow_copy_end_row; then
 * flow_copy_finish. On error, call flow_copy_abort (the transaction must be
 * rolled back by the caller).
 */
#ifndef FLOW_FLOW_COPY_H
#define FLOW_FLOW_COPY_H

#include <stdint.h>

#include "base/dbuf.h"
#include "base/error.h"

struct db;

#define FLOW_COPY_CHUNK (256u << 10)

struct flow_copy {
	struct db *db;
	struct dbuf buf;
	int ncols;      /* columns added to the current row */
	int64_t nelems; /* elements added to the current array */
	int64_t rows;
};

int flow_copy_begin(struct db *db, const char *sql, struct flow_copy *c, struct ts_err *err);
/* Appends one value (s is n bytes of text without NUL; escaped here). */
int flow_copy_str(struct flow_copy *c, const char *s, size_t n, struct ts_err *err);
int flow_copy_int(struct flow_copy *c, int64_t v, struct ts_err *err);
int flow_copy_null(struct flow_copy *c, struct ts_err *err);
/* One array value (text[] or bigint[]): flow_copy_array_begin, then one
 * flow_copy_elem_str or flow_copy_elem_int per element, then
 * flow_copy_array_end. Every string element is quoted, so any bytes are
 * taken as they are. An array may outgrow FLOW_COPY_CHUNK: it is sent as
 * it fills (a COPY row need not arrive in one piece). */
int flow_copy_array_begin(struct flow_copy *c, struct ts_err *err);
int flow_copy_elem_str(struct flow_copy *c, const char *s, size_t n, struct ts_err *err);
/* An element already formatted by flow_copy_format_elem: for a string
 * written many times, the escaping is done once. */
int flow_copy_elem_raw(struct flow_copy *c, const char *e, size_t n, struct ts_err *err);
int flow_copy_elem_int(struct flow_copy *c, int64_t v, struct ts_err *err);
int flow_copy_array_end(struct flow_copy *c, struct ts_err *err);
int flow_copy_end_row(struct flow_copy *c, struct ts_err *err);
int flow_copy_finish(struct flow_copy *c, struct ts_err *err);
void flow_copy_abort(struct flow_copy *c);

/* Appends s[0..n) escaped for COPY's text format (backslash, tab, LF, CR). */
int flow_copy_escape(struct dbuf *b, const char *s, size_t n);
/* Appends s[0..n) as a string element of an array in COPY's text format. */
int flow_copy_format_elem(struct dbuf *b, const char *s, size_t n);

#endif
