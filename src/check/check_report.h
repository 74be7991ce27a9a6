/*
 * Renders the results of `topsongs check` for people (an aligned table) and
 * for programs (JSON):
 *
 *   {"ok": true,
 *    "services": [{"name": "postgres", "required": true, "status": "ok",
 *                  "latency_ms": 2.1, "target": "postgresql://...",
 *                  "reason": "SELECT 1 answered by ..."}, ...]}
 *
 * "status" is "ok", "failed" or "not running"; "ok" is true when every
 * required service is ok. The functions only append to a buffer; the
 * command prints it.
 */
#ifndef CHECK_CHECK_REPORT_H
#define CHECK_CHECK_REPORT_H

#include <stddef.h>

#include "base/dbuf.h"
#include "check/check_result.h"

/* Appends the JSON object and a newline. Returns 0, TS_ENOMEM or TS_ETOOBIG. */
int check_report_json(const struct check_result *results, size_t n, struct dbuf *out);

/* Appends the table and a closing summary line. Returns 0, TS_ENOMEM or
 * TS_ETOOBIG. */
int check_report_table(const struct check_result *results, size_t n, struct dbuf *out);

#endif
