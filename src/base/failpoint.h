/*
 * Failpoints for crash tests: `TS_FAILPOINT=name:n` in the environment
 * makes the n-th pass through failpoint("name") kill the process with
 * SIGKILL, as a power cut would, at exactly that step. Without the variable
 * a failpoint costs one comparison. Thread-safe.
 */
#ifndef BASE_FAILPOINT_H
#define BASE_FAILPOINT_H

void failpoint(const char *name);

/* For failpoints that inject something other than a crash (an error, a
 * delay): n when TS_FAILPOINT is "name:n", else 0. The caller gives n its
 * meaning (docs/scheduler.md lists the scheduler's). */
long failpoint_arg(const char *name);

#endif
