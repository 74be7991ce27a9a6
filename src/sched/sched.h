/*
 * The scheduler loop behind `topsongs scheduler` (docs/scheduler.md): runs
 * each flow of a table on its schedule, one worker thread per run, with
 * retries (exponential backoff, full jitter), catch-up of fires missed while
 * no scheduler ran, a heartbeat row, and the sweep that abandons runs whose
 * lease expired and runs them again. Several schedulers may share one
 * database: the advisory lock of each run (sched_runs.h) keeps a flow and
 * scope to one run at a time, and a fire already served by another
 * scheduler is skipped.
 *
 * The flow table is a parameter (the seam unit tests use); the binary
 * passes flow_table. The decisions (what runs next, when) are the pure
 * sched_slot_* functions below, so they can be tested without a database.
 */
#ifndef SCHED_SCHED_H
#define SCHED_SCHED_H

#include <pthread.h>
#include <stdint.h>

#include "base/config.h"
#include "base/error.h"
#include "flow/flow.h"
#include "sched/sched_runs.h"
#include "sched/sched_schedule.h"

struct sched_worker;

/* What the scheduler knows about one flow. */
struct sched_slot {
	const struct flow_def *flow;
	struct sched_schedule schedule;
	char schedule_text[SCHED_TEXT_MAX + 1];
	int64_t next_fire_us; /* 0: none (schedule "off") */
	/* the next run to start, if pending */
	int pending;
	int64_t due_us;
	const char *trigger;
	int attempt;
	int64_t done_since_us;       /* skip when another scheduler ran since */
	int catch_up_left;           /* further catch-up runs (policy "all") */
	int after_pending;           /* run again when the run going on ends */
	struct sched_worker *worker; /* the run going on, or NULL */
};

/* A run of the flow this slot's flow follows (flow_def.after) wrote rows:
 * plans a run now (trigger "after"), or right after the run going on, which
 * may have read its input before those rows existed. Nothing when the
 * slot's schedule is "off" or a run is already planned. */
void sched_slot_follow(struct sched_slot *slot, int64_t now_us);

/* Fills slots[i] for flows[i]: the schedule from `overrides` (the
 * scheduler.schedules syntax, "FLOW=SCHEDULE;FLOW=SCHEDULE") or the flow's
 * default. Returns 0 or TS_EINVAL naming the flow or pair at fault. */
int sched_slots_init(struct sched_slot *slots, const struct flow_def *flows, size_t n,
                     const char *overrides, struct ts_err *err);

/* Plans the catch-up of a slot at start-up: last_start_us is when the last
 * scheduled run of the flow started (0: never, then nothing to catch up).
 * policy is "skip", "all" or "none". Returns the number of missed fires. */
int sched_slot_catch_up(struct sched_slot *slot, const char *policy, int max, int64_t last_start_us,
                        int64_t now_us);

/* Schedule fires due at now_us: plans a run unless one is going on or
 * pending (then the fire is coalesced into it), and moves next_fire_us. */
void sched_slot_tick(struct sched_slot *slot, int64_t now_us);

/* Plans what follows a finished run (rc and res from sched_run): a retry
 * after a backoff for a temporary failure below max attempts, else the next
 * catch-up run, else nothing. Returns 1 when a retry was planned. */
int sched_slot_finished(struct sched_slot *slot, const struct ts_config *cfg, int rc,
                        const struct sched_run_result *res, int64_t now_us, uint64_t *rng);

/* Plans the re-run of an abandoned run (attempt + 1, trigger retry). */
void sched_slot_rerun(struct sched_slot *slot, int abandoned_attempt, int64_t now_us);

struct sched_stats {
	int64_t runs, succeeded, failed, retries, busy, skipped_done, abandoned_found;
	int left_running; /* runs still going on at exit (marked abandoned) */
};

/* Runs the loop until *stop becomes non-zero, then stops gracefully (waits
 * scheduler.stop-timeout-ms for runs going on, abandons the rest). Returns
 * 0, TS_EINVAL for a bad schedule, or another TS_E* code. When
 * stats->left_running > 0, worker threads still run flows that use cfg: the
 * caller must exit the process without releasing cfg. */
int sched_main(const struct ts_config *cfg, const struct flow_def *flows, size_t nflows,
               volatile int *stop, struct sched_stats *stats, struct ts_err *err);

/* This process's instance name: scheduler.instance-id, or HOST:PID. */
void sched_instance_name(const struct ts_config *cfg, char *out, size_t size);

#endif
