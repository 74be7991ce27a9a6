/*
 * GET /api/ledger?from=&to=&region=&lake= : the end-to-end ledger
 * (ledger/ledger.h, docs/ledger.md) for the dashboard's pipeline view, the
 * same JSON document as `topsongs ledger --json`.
 *
 * Parameters are checked like the other read endpoints' (400 naming the
 * parameter): region ALL or a configured code; from/to in the read API's
 * time forms, at most 31 days apart, default the last 24 hours; lake 0 or 1
 * (default 1: read the lake's footers). A ledger reads a lot, so one runs
 * at a time: a request that finds one running gets 503 + Retry-After, never
 * a worker thread blocked behind it. PostgreSQL down is 503 as elsewhere.
 *
 * Threads: api_ledger_handle from any HTTP worker thread.
 */
#ifndef API_API_LEDGER_H
#define API_API_LEDGER_H

#include "base/config.h"
#include "base/error.h"

struct api_ledger;
struct api_request;
struct api_reply;

/* cfg must outlive it; connects to nothing until the first request. */
int api_ledger_new(const struct ts_config *cfg, struct api_ledger **out, struct ts_err *err);
/* NULL is a no-op. */
void api_ledger_free(struct api_ledger *l);

void api_ledger_handle(struct api_ledger *l, struct api_request *req, struct api_reply *reply);

#endif
