/*
 * Flow runs and their bookkeeping in PostgreSQL (migration 5: flow_runs,
 * scheduler_heartbeats); see docs/scheduler.md.
 *
 * sched_run() runs one flow once, the way both the scheduler and
 * `topsongs flows run` do it:
 *
 *   1. connect, and take the session-level advisory lock of (flow, scope)
 *      with pg_try_advisory_lock; busy means another run of the same flow
 *      and scope is going on somewhere: SCHED_RUN_BUSY, nothing recorded;
 *   2. insert the flow_runs row (state 'running', lease_until = now + lease)
 *      and renew the lease from a second connection every renew interval
 *      while the flow runs;
 *   3. run the flow on the locked connection, record the outcome (state,
 *      rows in and out, error), release the lock.
 *
 * A process that dies mid-run loses its connections, so PostgreSQL drops
 * its lock; its row stays 'running' until its lease expires, and then
 * sched_runs_sweep() (any scheduler) marks it 'abandoned'.
 *
 * Failpoints (TS_FAILPOINT=name:n): sched_run_started (SIGKILL after the row
 * is inserted, at the n-th run), sched_run_hang (sleep n ms before the flow),
 * sched_run_fail (the first n runs of the process fail with a temporary
 * error instead of running the flow), sched_run_error (the same with a
 * permanent error).
 *
 * Thread-safe: sched_run opens its own connections; the bookkeeping
 * functions below use the caller's connection, from the caller's thread.
 */
#ifndef SCHED_SCHED_RUNS_H
#define SCHED_SCHED_RUNS_H

#include <stdint.h>

#include "base/config.h"
#include "base/error.h"
#include "flow/flow.h"

struct db;

#define SCHED_SCOPE_MAX 160
#define SCHED_OWNER_MAX 128

enum sched_outcome {
	SCHED_RUN_SUCCEEDED,
	SCHED_RUN_FAILED, /* the flow returned an error: code, error */
	SCHED_RUN_BUSY,   /* the lock was held elsewhere; nothing ran, no row */
	SCHED_RUN_DONE,   /* a run of flow+scope started at or after done_since_us */
};

struct sched_run_req {
	const struct flow_def *flow;
	struct flow_args args;
	const char *scope;   /* "*" or the range, see sched_runs_scope() */
	const char *trigger; /* schedule, manual, retry, catch-up */
	int attempt;         /* 1 for a first attempt */
	const char *owner;   /* who runs it: the scheduler instance, or flows-run@HOST:PID */
	int64_t lease_ms, renew_ms;
	int64_t done_since_us; /* > 0: skip (SCHED_RUN_DONE) if a run started since then */
};

struct sched_run_result {
	enum sched_outcome outcome;
	int64_t id; /* the flow_runs row, 0 when none was written */
	int code;   /* SCHED_RUN_FAILED: the flow's TS_E* code */
	struct flow_stats stats;
	int64_t duration_us;
	char error[TS_ERR_MSG_MAX];
};

/* Runs req->flow once (see above). Returns 0 when the outcome is in *res,
 * or a TS_E* code when the bookkeeping itself failed (TS_EUNAVAIL: the
 * database is unreachable; worth a retry). */
int sched_run(const struct ts_config *cfg, const struct sched_run_req *req,
              struct sched_run_result *res, struct ts_err *err);

/* The scope text of args: "*" for everything, else "region=EU from=... to=...". */
void sched_runs_scope(const struct flow_args *args, char *out, size_t size);

/* A temporary error, worth another attempt: TS_EUNAVAIL (which is also
 * what a lost database connection gives) and TS_ETIMEDOUT. */
int sched_retryable(int code);

/* Backoff before retry number `retry` (1 for the first retry): random in
 * [0, min(cap_ms, base_ms * 2^(retry-1))] ("full jitter"), drawn from *rng. */
int64_t sched_backoff_ms(int retry, int64_t base_ms, int64_t cap_ms, uint64_t *rng);

/* Exit statuses of `topsongs flows run` (docs/scheduler.md). */
enum sched_exit {
	SCHED_EXIT_OK = 0,
	SCHED_EXIT_FAILED = 1,
	SCHED_EXIT_USAGE = 2,
	SCHED_EXIT_TEMPFAIL = 75, /* sysexits' EX_TEMPFAIL: retry later */
	SCHED_EXIT_BUSY = 99,     /* Airflow's BashOperator skips a task on 99 */
};
/* The exit status for sched_run's return code rc and outcome. */
int sched_exit_status(int rc, const struct sched_run_result *res);

/* ---- bookkeeping for the scheduler loop (one connection, its thread) ---- */

/* Upserts this instance's heartbeat row (host, pid, beat_at = now()). */
int sched_runs_beat(struct db *db, const char *instance, int64_t started_us, struct ts_err *err);
/* Whether another live process beats as `instance`: a row whose beat is
 * younger than max_age_ms from another host or pid. *who gets "HOST:PID". */
int sched_runs_instance_taken(struct db *db, const char *instance, int64_t max_age_ms, int *taken,
                              char *who, size_t size, struct ts_err *err);
/* Deletes it (graceful stop). */
int sched_runs_unbeat(struct db *db, const char *instance, struct ts_err *err);

/* A run found abandoned by sched_runs_sweep. */
struct sched_abandoned {
	char flow[64];
	char scope[SCHED_SCOPE_MAX];
	int attempt;
	int64_t id;
};

/* Marks 'abandoned' every 'running' row whose lease expired and whose lock
 * is free (its owner is gone), at most max of them; they go into out[],
 * *n gets how many. */
int sched_runs_sweep(struct db *db, struct sched_abandoned *out, int max, int *n,
                     struct ts_err *err);

/* Marks 'abandoned' the runs of owner still 'running' (a stop that could not
 * wait for them). */
int sched_runs_abandon_owner(struct db *db, const char *owner, const char *why, struct ts_err *err);

/* When the last run of flow with scope "*" started by a scheduler (trigger
 * other than manual) began, into *us (0 when never). */
int sched_runs_last_start(struct db *db, const char *flow, int64_t *us, struct ts_err *err);

#endif
