/*
 * Parsing of --from / --to values. Relative forms take one integer and one
 * unit (s, m, h, d); combinations like "1h30m" are not accepted, which
 * keeps the grammar obvious.
 */
#include "base/common.h"
#include "base/timeutil.h"
#include "sim/sim_when.h"

#include <errno.h>

static int unit_us(char u, int64_t *out)
{
	switch (u) {
	case 's':
		*out = TIME_US_PER_SEC;
		return 0;
	case 'm':
		*out = 60 * TIME_US_PER_SEC;
		return 0;
	case 'h':
		*out = 3600 * TIME_US_PER_SEC;
		return 0;
	case 'd':
		*out = 86400 * TIME_US_PER_SEC;
		return 0;
	}
	return TS_EINVAL;
}

static int relative(const char *s, int64_t now_us, int64_t *out_us, struct ts_err *err)
{
	char *end;
	long long n;
	int64_t unit;

	errno = 0;
	n = strtoll(s + 1, &end, 10);
	if (errno || end == s + 1 || s[1] < '0' || s[1] > '9' || !*end || end[1] ||
	    unit_us(*end, &unit) || n > 3650LL * 86400)
		return ts_err_set(err, TS_EINVAL,
		                  "'%s': expected now, -N or +N with a unit s, m, h or d", s);
	*out_us = now_us + (s[0] == '-' ? -1 : 1) * (int64_t)n * unit;
	return 0;
}

int sim_when_parse(const char *s, int64_t now_us, int64_t *out_us, struct ts_err *err)
{
	const char *why = NULL;

	if (!strcmp(s, "now")) {
		*out_us = now_us;
		return 0;
	}
	if (s[0] == '-' || s[0] == '+')
		return relative(s, now_us, out_us, err);
	if (time_parse_rfc3339(s, strlen(s), out_us, &why))
		return ts_err_set(err, TS_EINVAL, "'%s': not an RFC 3339 time (%s)", s,
		                  why ? why : "invalid");
	return 0;
}
