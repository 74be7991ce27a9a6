/*
 * `topsongs check`: probes every service the pipeline depends on —
 * PostgreSQL, Kafka, the lake, the api and the scheduler heartbeat — and
 * reports, per service, ok / failed / not running, a latency and a one-line
 * reason. The probes are a table (check_probes); check_run starts each in its
 * own thread, so the whole check takes about one timeout, not the sum of
 * them, and it returns after that deadline (plus a short grace) even when a
 * probe is stuck in a call that ignores deadlines (a DNS lookup, an fsync on
 * a hung mount): such a probe is reported as timed out and left to finish on
 * its own, on a private copy of the configuration.
 *
 * Nothing here prints; the command (cli/cmd_check.c) renders the results
 * (check_report.h) and picks the exit status.
 */
#ifndef CHECK_CHECK_H
#define CHECK_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "base/config.h"
#include "base/error.h"
#include "check/check_result.h"

/*
 * A probe fills out->target and, through check_result_ok/fail/not_running,
 * out->status and out->reason; it returns 0 when the service is ok or a
 * negative TS_E* code. It should give up by itself after timeout_ms. It runs
 * on its own thread and must not keep cfg past its return.
 */
typedef int (*check_probe_fn)(const struct ts_config *cfg, int64_t timeout_ms,
                              struct check_result *out);

struct check_probe {
	const char *name;
	check_probe_fn probe;
	/* Optional process-wide set-up, called before any probe thread starts. */
	void (*prepare)(void);
};

#define CHECK_MAX_PROBES 16

/* The services, in report order. */
extern const struct check_probe check_probes[];
extern const size_t check_nprobes;

/*
 * Parses a comma-separated list of probe names ("postgres,kafka,lake";
 * blanks around names allowed, empty items ignored) into a bit mask over
 * probes[0..n). Returns 0 or TS_EINVAL naming the unknown service in err.
 */
int check_required_parse(const char *list, const struct check_probe *probes, size_t n,
                         uint32_t *mask, struct ts_err *err);

/*
 * Runs probes[0..n) concurrently (probes and their names must be static: a
 * stuck probe's thread may outlive this call), each with timeout_ms, and fills
 * results[0..n) (name, required from required_mask, status, latency, target,
 * reason). Returns within about timeout_ms + CHECK_GRACE_MS.
 * Returns 0 when every required probe is ok, TS_EUNAVAIL when one is not,
 * or TS_ENOMEM / TS_EIO (threads could not start) with err set.
 */
#define CHECK_GRACE_MS 500
int check_run_probes(const struct ts_config *cfg, const struct check_probe *probes, size_t n,
                     uint32_t required_mask, int64_t timeout_ms, struct check_result *results,
                     struct ts_err *err);

/*
 * check_run_probes over check_probes with cfg->check_required and
 * cfg->check_timeout_ms; results holds check_nprobes entries. Also returns
 * TS_EINVAL for a bad check.required.
 */
int check_run(const struct ts_config *cfg, struct check_result *results, struct ts_err *err);

/* 1 when every result marked required has status CHECK_OK. */
int check_all_required_ok(const struct check_result *results, size_t n);

#endif
