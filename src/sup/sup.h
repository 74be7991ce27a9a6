/*
 * A small process supervisor, for `topsongs up`: it starts children (each
 * one a `topsongs` role), restarts one that dies with exponential back-off,
 * and stops them all, newest first, when asked.
 *
 * Each child runs in its own process group, so a terminal's Ctrl-C reaches
 * the supervisor only and the children stop in order; each child also gets
 * SIGTERM from the kernel if the supervisor itself dies (PR_SET_PDEATHSIG),
 * so no child outlives it. A child's stdout and stderr are appended to
 * <log_dir>/<name>.log.
 *
 * One thread only: sup_* functions are called from the thread that made the
 * struct sup.
 */
#ifndef SUP_SUP_H
#define SUP_SUP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"

#define SUP_MAX_CHILDREN 16
#define SUP_MAX_ARGS     32

struct sup_spec {
	const char *name;               /* "api"; also the log file's name */
	const char *argv[SUP_MAX_ARGS]; /* argv[0] is the program; NULL-terminated */
	bool oneshot;                   /* exit 0 means done: not restarted */
};

/* What happened to a child, for the caller to report. The callback's
 * status is the wait status for SUP_EXITED, SUP_DONE and SUP_STOPPED, and the
 * back-off in milliseconds for SUP_RESTARTING. */
enum sup_event { SUP_STARTED, SUP_EXITED, SUP_RESTARTING, SUP_DONE, SUP_STOPPED };

typedef void (*sup_report_fn)(enum sup_event ev, const char *name, pid_t pid, int status,
                              void *arg);

struct sup;

/* log_dir must exist. *out is freed with sup_free (which stops nothing:
 * call sup_stop_all first). */
int sup_new(const char *log_dir, sup_report_fn report, void *arg, struct sup **out,
            struct ts_err *err);
void sup_free(struct sup *s);

/* Starts a child now; spec is copied. */
int sup_start(struct sup *s, const struct sup_spec *spec, struct ts_err *err);

/* Reaps children that exited and restarts those due; returns within
 * wait_ms. *running gets how many children are alive. */
int sup_poll(struct sup *s, int wait_ms, int *running, struct ts_err *err);

/* Whether the oneshot child name finished with status 0. */
bool sup_done(const struct sup *s, const char *name);

/* The pid of child name, or 0 when it is not running. */
pid_t sup_pid(const struct sup *s, const char *name);

/* SIGTERM to every child, newest first, each given timeout_ms to exit
 * before SIGKILL. Nothing is restarted afterwards. */
void sup_stop_all(struct sup *s, int timeout_ms);

/* The back-off before restart number n (1, 2, ...): 0.5 s doubling, at
 * most 30 s. Exposed for tests. */
int64_t sup_backoff_ms(int n);

#endif
