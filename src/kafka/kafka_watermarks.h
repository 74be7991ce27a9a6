/*
 * The high watermark (end offset) of every partition of the plays topic,
 * asked of the brokers by a librdkafka handle of its own that sends
 * nothing. Used by the api's /api/pipeline (with a cache on top, api_lag.c)
 * and by the ledger (uncached: it must read them after the api's counts).
 * Every broker question is bounded by the timeout given at creation.
 *
 * Threads: one call at a time per handle.
 */
#ifndef KAFKA_KAFKA_WATERMARKS_H
#define KAFKA_KAFKA_WATERMARKS_H

#include <stdint.h>

#include "base/config.h"
#include "base/error.h"

struct kafka_watermarks;

/* cfg must outlive it; client_id names the handle to the brokers. Connects
 * to nothing until the first call, so a process nobody asks keeps no second
 * set of broker connections. */
int kafka_watermarks_new(const struct ts_config *cfg, const char *client_id, int timeout_ms,
                         struct kafka_watermarks **out, struct ts_err *err);
/* NULL is a no-op. */
void kafka_watermarks_free(struct kafka_watermarks *w);

/* Fills hw[partition] for every partition and *n with the partition count.
 * Returns 0; TS_EUNAVAIL with the broker's reason; TS_ETOOBIG when a
 * partition number is max or more. */
int kafka_watermarks_get(struct kafka_watermarks *w, int64_t *hw, int max, int *n,
                         struct ts_err *err);

#endif
