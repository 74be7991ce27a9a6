/*
 * Error values and messages; see error.h for the conventions.
 */
#include "base/common.h"
#include "base/error.h"

#include <stdarg.h>

void bug_fl(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "BUG: %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

int ts_err_set(struct ts_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

int ts_err_wrap(struct ts_err *err, const char *fmt, ...)
{
	char prefix[TS_ERR_MSG_MAX];
	char old[TS_ERR_MSG_MAX];
	va_list ap;

	if (!err)
		return TS_EINVAL;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	snprintf(err->msg, sizeof(err->msg), "%s: %s", prefix, old);
	return err->code;
}

void ts_err_clear(struct ts_err *err)
{
	if (!err)
		return;
	err->code = TS_OK;
	err->msg[0] = '\0';
}

const char *ts_code_name(int code)
{
	switch (code) {
	case TS_OK:
		return "ok";
	case TS_EINVAL:
		return "invalid";
	case TS_ENOMEM:
		return "out-of-memory";
	case TS_EIO:
		return "io";
	case TS_ETOOBIG:
		return "too-big";
	case TS_ETIMEDOUT:
		return "timeout";
	case TS_EUNAVAIL:
		return "unavailable";
	case TS_ECORRUPT:
		return "corrupt";
	case TS_ENOTFOUND:
		return "not-found";
	case TS_EFAILED:
		return "failed";
	}
	return "unknown";
}
