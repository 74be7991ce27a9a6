/*
 * The project's one error vocabulary.
 *
 * Fallible functions return int: 0 on success or one of the negative TS_E*
 * codes below. The status variable is always called `rc`. A human-readable
 * reason goes into a caller-supplied `struct ts_err`, which may be NULL when
 * the caller only needs the code. Messages never contain secrets.
 */
#ifndef BASE_ERROR_H
#define BASE_ERROR_H

#include <stdarg.h>

enum ts_code {
	TS_OK = 0,
	TS_EINVAL = -1,    /* bad input from outside: request, file, flag */
	TS_ENOMEM = -2,    /* allocation failed */
	TS_EIO = -3,       /* an operating system call failed */
	TS_ETOOBIG = -4,   /* a size over its configured cap */
	TS_ETIMEDOUT = -5, /* a deadline passed */
	TS_EUNAVAIL = -6,  /* a service is down or overloaded: retry later */
	TS_ECORRUPT = -7,  /* stored data is not what it should be */
	TS_ENOTFOUND = -8, /* no such thing */
	TS_EFAILED = -9,   /* a remote service said no (auth, SQL error, ...) */
};

#define TS_ERR_MSG_MAX 512

struct ts_err {
	int code;
	char msg[TS_ERR_MSG_MAX];
};

/* Records code and a printf-style message in err (if not NULL); returns code. */
int ts_err_set(struct ts_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes err->msg with "context: "; returns err->code (TS_EINVAL if NULL). */
int ts_err_wrap(struct ts_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Resets err to "no error". */
void ts_err_clear(struct ts_err *err);

/* A short stable name for a code: "invalid", "timeout", ... */
const char *ts_code_name(int code);

#endif
