/*
 * Kafka high watermarks for GET /api/pipeline (kafka_watermarks.h), cached
 * for API_LAG_CACHE_MS so a page polling the pipeline does not turn into
 * broker round trips, and a broker outage costs one request at most
 * API_LAG_TIMEOUT_MS, not every one.
 *
 * Threads: any; calls are serialised inside.
 */
#ifndef API_API_LAG_H
#define API_API_LAG_H

#include <stdint.h>

#include "base/config.h"
#include "base/error.h"

#define API_LAG_MAX_PARTITIONS 1024
#define API_LAG_CACHE_MS       2000
#define API_LAG_TIMEOUT_MS     1000

struct api_lag;

/* cfg must outlive it. Connects to nothing until the first call. */
int api_lag_new(const struct ts_config *cfg, struct api_lag **out, struct ts_err *err);
/* NULL is a no-op. */
void api_lag_free(struct api_lag *lag);

/* Copies up to max high watermarks, indexed by partition, into hw; *n gets
 * the partition count. Returns 0, or kafka_watermarks_get's error with its
 * reason (cached like an answer). */
int api_lag_watermarks(struct api_lag *lag, int64_t *hw, int max, int *n, struct ts_err *err);

#endif
