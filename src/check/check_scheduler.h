/*
 * The scheduler probe of `topsongs check`. Every running scheduler beats
 * into PostgreSQL (migration 5, docs/scheduler.md):
 *
 *   scheduler_heartbeats (instance text PRIMARY KEY, host, pid, started_at,
 *                         beat_at timestamptz)
 *
 * The probe is ok when the newest beat_at is younger than three
 * scheduler.heartbeat-ms intervals; "not running" when the table does not
 * exist or is empty (no scheduler runs: a scheduler that stops cleanly
 * removes its row); failed when the newest beat is stale or PostgreSQL
 * cannot be read. Thread-safe like every probe.
 */
#ifndef CHECK_CHECK_SCHEDULER_H
#define CHECK_CHECK_SCHEDULER_H

#include <stdint.h>

#include "base/config.h"
#include "check/check_result.h"

int check_scheduler_probe(const struct ts_config *cfg, int64_t timeout_ms,
                          struct check_result *out);

#endif
