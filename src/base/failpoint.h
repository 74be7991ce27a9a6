/*
 * Failpoints for crash tests: `TS_FAILPOINT=name:n` in the environment
 * makes the n-th pass through failpoint("name") kill the process with
 * SIGKILL, as a power cut would, at exactly that step. Without the variable
 * a failpoint costs one comparison. Thread-safe.
 */
#ifndef BASE_FAILPOINT_H
#define BASE_FAILPOINT_H

void failpoint(const char *name);

#endif
