/*
 * Setters and text helpers for one probe's outcome; see check_result.h.
 */
#include "base/common.h"
#include "base/error.h"
#include "check/check_result.h"

#include <stdarg.h>

static void set_text(char *dst, size_t size, const char *fmt, va_list ap)
{
	vsnprintf(dst, size, fmt, ap);
	check_result_oneline(dst);
}

int check_result_ok(struct check_result *out, const char *fmt, ...)
{
	va_list ap;

	out->status = CHECK_OK;
	va_start(ap, fmt);
	set_text(out->reason, sizeof(out->reason), fmt, ap);
	va_end(ap);
	return 0;
}

int check_result_fail(struct check_result *out, int rc, const char *fmt, ...)
{
	va_list ap;

	out->status = CHECK_FAILED;
	va_start(ap, fmt);
	set_text(out->reason, sizeof(out->reason), fmt, ap);
	va_end(ap);
	return rc;
}

int check_result_not_running(struct check_result *out, const char *fmt, ...)
{
	va_list ap;

	out->status = CHECK_NOT_RUNNING;
	va_start(ap, fmt);
	set_text(out->reason, sizeof(out->reason), fmt, ap);
	va_end(ap);
	return TS_ENOTFOUND;
}

void check_result_target(struct check_result *out, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_text(out->target, sizeof(out->target), fmt, ap);
	va_end(ap);
}

const char *check_result_status_name(enum check_status status)
{
	switch (status) {
	case CHECK_OK:
		return "ok";
	case CHECK_NOT_RUNNING:
		return "not running";
	case CHECK_FAILED:
		break;
	}
	return "failed";
}

/* Length of the valid UTF-8 sequence at s, or 0 (overlongs and surrogates
 * are let through: they only need to be well-formed enough for JSON). */
static size_t utf8_seq(const unsigned char *s)
{
	size_t n = *s >= 0xf0 && *s <= 0xf4 ? 4 : *s >= 0xe0 ? 3 : *s >= 0xc2 ? 2 : 0;

	if (*s >= 0xf5)
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

void check_result_oneline(char *s)
{
	char *w = s;
	int blank = 1; /* drops leading blanks */

	for (const char *r = s; *r; r++) {
		unsigned char c = (unsigned char)*r;
		size_t seq = c >= 0x80 ? utf8_seq((const unsigned char *)r) : 1;

		if (c < 0x20 || c == 0x7f || c == ' ') {
			blank = 1;
			continue;
		}
		if (blank && w != s)
			*w++ = ' ';
		blank = 0;
		if (!seq) { /* not UTF-8: keep the output valid for JSON */
			*w++ = '?';
			continue;
		}
		memmove(w, r, seq);
		w += seq;
		r += seq - 1;
	}
	*w = '\0';
}

void check_result_scrub(char *s, size_t size, const char *secret)
{
	static const char mask[] = "<redacted>";
	size_t slen = secret ? strlen(secret) : 0, mlen = sizeof(mask) - 1;
	char *p = s;

	if (!slen || !size)
		return;
	while ((p = strstr(p, secret))) {
		size_t tail = strlen(p + slen), off = (size_t)(p - s);

		if (off + mlen >= size) { /* no room even for the mask: cut here */
			*p = '\0';
			return;
		}
		if (off + mlen + tail >= size)
			tail = size - 1 - off - mlen;
		memmove(p + mlen, p + slen, tail);
		memcpy(p, mask, mlen);
		p[mlen + tail] = '\0';
		p += mlen;
	}
}
