/*
 * Calendar arithmetic by Howard Hinnant's published days-from-civil
 * algorithm (a public-domain description of the math, implemented here), so
 * nothing depends on the process time zone or on gmtime's static buffer.
 */
#include "base/common.h"
#include "base/error.h"
#include "base/timeutil.h"

#include <time.h>

int64_t time_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * TIME_US_PER_SEC + ts.tv_nsec / 1000;
}

int64_t time_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * TIME_US_PER_SEC + ts.tv_nsec / 1000;
}

int64_t time_days_from_civil(int year, int month, int day)
{
	int64_t y = year - (month <= 2);
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t mp = (month + 9) % 12;
	int64_t doy = (153 * mp + 2) / 5 + day - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

void time_to_civil(int64_t us, struct time_civil *c)
{
	int64_t secs = us / TIME_US_PER_SEC, micro = us % TIME_US_PER_SEC;
	int64_t days, sod, z, era, doe, yoe, doy, mp, y;

	if (micro < 0) {
		micro += TIME_US_PER_SEC;
		secs--;
	}
	days = secs / 86400;
	sod = secs % 86400;
	if (sod < 0) {
		sod += 86400;
		days--;
	}
	z = days + 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	c->day = (int)(doy - (153 * mp + 2) / 5 + 1);
	c->month = (int)(mp < 10 ? mp + 3 : mp - 9);
	c->year = (int)(y + (c->month <= 2));
	c->hour = (int)(sod / 3600);
	c->minute = (int)(sod / 60 % 60);
	c->second = (int)(sod % 60);
	c->micro = (int)micro;
}

static int digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

static int days_in_month(int year, int month)
{
	static const int dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return month == 2 && leap ? 29 : dim[month - 1];
}

static int fail(const char **why, const char *reason)
{
	if (why)
		*why = reason;
	return TS_EINVAL;
}

/* Parses ".ddd" at s[*i]; adds the microseconds to *micro. */
static int parse_fraction(const char *s, size_t len, size_t *i, int *micro, const char **why)
{
	int n = 0, scale = 100000;

	if (*i >= len || s[*i] != '.')
		return 0;
	(*i)++;
	while (*i < len && s[*i] >= '0' && s[*i] <= '9') {
		if (++n > 9)
			return fail(why, "more than 9 fraction digits");
		*micro += (s[*i] - '0') * scale;
		scale /= 10;
		(*i)++;
	}
	return n ? 0 : fail(why, "empty fraction after '.'");
}

static int parse_offset(const char *s, size_t len, size_t i, int *offset_min, const char **why)
{
	int oh, om;

	if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
		*offset_min = 0;
		return i + 1 == len ? 0 : fail(why, "trailing characters after 'Z'");
	}
	if (i >= len)
		return fail(why, "missing UTC offset (Z or +hh:mm)");
	if ((s[i] != '+' && s[i] != '-') || len - i != 6 || s[i + 3] != ':' ||
	    digits(s + i + 1, 2, &oh) || digits(s + i + 4, 2, &om))
		return fail(why, "bad UTC offset, expected Z or +hh:mm");
	if (oh > 23 || om > 59)
		return fail(why, "UTC offset out of range");
	*offset_min = (s[i] == '-' ? -1 : 1) * (oh * 60 + om);
	return 0;
}

int time_parse_rfc3339(const char *s, size_t len, int64_t *out_us, const char **why)
{
	int year, month, day, hour, minute, second, micro = 0, offset_min = 0;
	size_t i = 19;
	int64_t secs;

	if (len < 20)
		return fail(why, "too short for YYYY-MM-DDThh:mm:ssZ");
	if (digits(s, 4, &year) || s[4] != '-' || digits(s + 5, 2, &month) || s[7] != '-' ||
	    digits(s + 8, 2, &day) || (s[10] != 'T' && s[10] != 't') || digits(s + 11, 2, &hour) ||
	    s[13] != ':' || digits(s + 14, 2, &minute) || s[16] != ':' ||
	    digits(s + 17, 2, &second))
		return fail(why, "not an RFC 3339 date-time");
	if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month))
		return fail(why, "no such date");
	if (hour > 23 || minute > 59 || second > 59)
		return fail(why, "no such time of day");
	if (parse_fraction(s, len, &i, &micro, why) || parse_offset(s, len, i, &offset_min, why))
		return TS_EINVAL;
	secs = time_days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
	secs -= (int64_t)offset_min * 60;
	*out_us = secs * TIME_US_PER_SEC + micro;
	return 0;
}

/* v in exactly n decimal digits at p (0 <= v < 10^n). */
static void put_digits(char *p, int v, int n)
{
	while (n-- > 0) {
		p[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

int time_format_rfc3339_ms(int64_t us, char *out, size_t size)
{
	struct time_civil c;
	int n;

	time_to_civil(us, &c);
	/* Without printf for four-digit years: the api formats one per play. */
	if (c.year >= 0 && c.year <= 9999 && size > 24) {
		memcpy(out, "0000-00-00T00:00:00.000Z", 25);
		put_digits(out, c.year, 4);
		put_digits(out + 5, c.month, 2);
		put_digits(out + 8, c.day, 2);
		put_digits(out + 11, c.hour, 2);
		put_digits(out + 14, c.minute, 2);
		put_digits(out + 17, c.second, 2);
		put_digits(out + 20, c.micro / 1000, 3);
		return 0;
	}
	n = snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", c.year, c.month, c.day,
	             c.hour, c.minute, c.second, c.micro / 1000);
	return n < 0 || (size_t)n >= size ? TS_ETOOBIG : 0;
}
