/*
 * Time: RFC 3339 parsing and formatting, clocks. All instants are
 * microseconds since the Unix epoch, UTC (int64_t).
 */
#ifndef BASE_TIMEUTIL_H
#define BASE_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

#define TIME_US_PER_SEC 1000000LL

/* Wall clock, microseconds since the epoch. */
int64_t time_now_us(void);
/* Monotonic clock, microseconds from an arbitrary origin. */
int64_t time_mono_us(void);

/*
 * Parses an RFC 3339 date-time with a mandatory offset ("Z" or "+hh:mm"):
 * YYYY-MM-DD"T"hh:mm:ss[.fraction](Z|±hh:mm), "t"/"z" accepted, at most 9
 * fraction digits (sub-microsecond digits are truncated). Leap seconds (60)
 * are rejected. Only the first `len` bytes of s are read.
 * Returns 0 or TS_EINVAL with the reason in *why (a static string).
 */
int time_parse_rfc3339(const char *s, size_t len, int64_t *out_us, const char **why);

/* "2026-11-25T13:00:00.123Z" (milliseconds, UTC). Returns 0 or TS_ETOOBIG. */
int time_format_rfc3339_ms(int64_t us, char *out, size_t size);

/* Splits an instant into UTC calendar fields (no libc time zone state). */
struct time_civil {
	int year, month, day, hour, minute, second;
	int micro;
};
void time_to_civil(int64_t us, struct time_civil *c);
/* Days since 1970-01-01 for a proleptic Gregorian date. */
int64_t time_days_from_civil(int year, int month, int day);

#endif
