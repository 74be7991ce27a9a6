/*
 * The scheduler probe of `topsongs check`. A running scheduler writes a
 * heartbeat row into PostgreSQL:
 *
 *   scheduler_heartbeat (scheduler_id text PRIMARY KEY, beat_at timestamptz)
 *
 * The probe is ok when the newest beat_at is less than
 * CHECK_SCHEDULER_MAX_AGE_S old; "not running" when the table does not
 * exist or is empty (no scheduler has ever run); failed when the beat is
 * stale or PostgreSQL cannot be read. Thread-safe like every probe.
 */
#ifndef CHECK_CHECK_SCHEDULER_H
#define CHECK_CHECK_SCHEDULER_H

#include <stdint.h>

#include "base/config.h"
#include "check/check_result.h"

#define CHECK_SCHEDULER_MAX_AGE_S 30

int check_scheduler_probe(const struct ts_config *cfg, int64_t timeout_ms,
                          struct check_result *out);

#endif
