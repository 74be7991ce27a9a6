/*
 * Progress lines for long-running commands (simulate, back-fill, flows run,
 * retention): one line on stderr, rewritten in place ("\r" + erase) at most
 * four times a second, and only when a person can see it — stderr is a
 * terminal and logs are text. In a pipe, a file or with JSON logs nothing is
 * printed, so logs stay one record per line.
 *
 * Modules report, commands decide: any module may call progress_update();
 * it prints nothing until the command (the main thread, before starting
 * others) has called progress_setup(1). Daemons never do, so flows run by
 * the scheduler stay silent. Not thread-safe: one thread reports.
 *
 * A log line written while a progress line is shown first erases it (log.c
 * calls progress_erase()); the next update draws it again.
 */
#ifndef BASE_PROGRESS_H
#define BASE_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

/* Turns progress lines on when wanted is set, stderr is a terminal and the
 * log format is text. Returns whether they are on. */
int progress_setup(int wanted);
int progress_enabled(void);

struct progress {
	const char *what; /* "retention", "enrich": the line's first word */
	uint64_t total;   /* 0: unknown, no percentage or ETA */
	int64_t t0_us, last_us;
};

/* Starts a task; p is the caller's. */
void progress_begin(struct progress *p, const char *what, uint64_t total);

/* "what: done/total (pct%, ETA 12s) detail" — rate-limited; fmt may be NULL. */
void progress_update(struct progress *p, uint64_t done, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Draws text as the progress line now, not rate-limited (callers that keep
 * their own pacing, like simulate). */
void progress_show(const char *text);

/* Removes the line, if one is shown (end of the task, before other output). */
void progress_end(struct progress *p);
void progress_erase(void);

/* Formats the line of progress_update into out (size bytes); pure, for tests. */
void progress_format(const char *what, uint64_t done, uint64_t total, double elapsed_s,
                     const char *detail, char *out, size_t size);

#endif
