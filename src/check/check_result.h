/*
 * One probe's outcome in `topsongs check`: a status, a latency, the target it
 * talked to and a one-line reason a person can act on. The setters below keep
 * every reason on one line (newlines and runs of blanks collapsed) and the
 * scrubber replaces a known secret wherever it appears, so nothing a probe
 * copies from a library's error message can leak a password into the output.
 *
 * A struct check_result is a plain value owned by whoever declared it; the
 * functions here are pure and may be called from any thread.
 */
#ifndef CHECK_CHECK_RESULT_H
#define CHECK_CHECK_RESULT_H

#include <stddef.h>
#include <stdint.h>

#define CHECK_TEXT_MAX 400

enum check_status {
	CHECK_OK = 0,
	CHECK_FAILED,
	CHECK_NOT_RUNNING, /* the service does not exist yet: not an error in itself */
};

struct check_result {
	const char *name; /* the probe's name: "postgres", "kafka", ... (static) */
	int required;     /* named in check.required */
	enum check_status status;
	int64_t latency_us;          /* wall time of the probe */
	char target[CHECK_TEXT_MAX]; /* what was probed, secrets redacted */
	char reason[CHECK_TEXT_MAX]; /* why it failed, or a detail when ok */
};

/* Sets status CHECK_OK and the reason; returns 0. */
int check_result_ok(struct check_result *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Sets status CHECK_FAILED and the reason; returns rc (a negative TS_E* code). */
int check_result_fail(struct check_result *out, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Sets status CHECK_NOT_RUNNING and the reason; returns TS_ENOTFOUND. */
int check_result_not_running(struct check_result *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Sets the target. */
void check_result_target(struct check_result *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* "ok", "failed", "not running". */
const char *check_result_status_name(enum check_status status);

/* Rewrites s in place as one line of valid UTF-8: control characters and
 * runs of blanks become one space, leading and trailing blanks go, and bytes
 * that are not UTF-8 become '?'. */
void check_result_oneline(char *s);

/* Replaces every occurrence of secret in s (a buffer of size bytes) with
 * "<redacted>", truncating if needed. A NULL or empty secret is a no-op. */
void check_result_scrub(char *s, size_t size, const char *secret);

#endif
