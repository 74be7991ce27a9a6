/*
 * Schedules of the scheduler (docs/scheduler.md): when a flow fires.
 *
 *   every N{s|m|h|d}            an interval; fires at the multiples of N since
 *                               the Unix epoch, so "every 1h" fires on the hour
 *   cron MIN HOUR DOM MON DOW [ZONE]
 *                               five cron fields (*, N, N-M, each with an optional
 *                               step "/S"; comma lists; JAN-DEC, SUN-SAT; DOW 0 or 7 is
 *                               Sunday) in an IANA time zone (UTC by default)
 *   @hourly @daily @weekly @monthly @yearly [ZONE]   cron shorthands
 *   off                         never fires (the flow runs only by hand)
 *
 * Cron fields match local wall-clock time in ZONE. Daylight saving: a local
 * time that does not exist (the spring gap) fires once, at the instant the
 * gap ends; a local time that exists twice (the autumn overlap) fires once,
 * at its first occurrence.
 *
 * A struct sched_schedule is a plain value: no allocation, no release.
 * sched_schedule_next may be called from any thread (time zone conversions
 * are serialised inside, see sched_schedule.c).
 */
#ifndef SCHED_SCHED_SCHEDULE_H
#define SCHED_SCHED_SCHEDULE_H

#include <stdint.h>

#include "base/error.h"

#define SCHED_TEXT_MAX 256 /* longest schedule text accepted */
#define SCHED_ZONE_MAX 64  /* longest time zone name */

enum sched_kind { SCHED_OFF, SCHED_EVERY, SCHED_CRON };

struct sched_schedule {
	enum sched_kind kind;
	int64_t every_us;          /* SCHED_EVERY */
	uint64_t minute;           /* bit m: minute m matches (0-59) */
	uint32_t hour;             /* bits 0-23 */
	uint32_t dom;              /* bits 1-31 */
	uint32_t month;            /* bits 1-12 */
	uint32_t dow;              /* bits 0-6, Sunday = 0 */
	int dom_any, dow_any;      /* the field was "*" (cron's day-of-month/week OR rule) */
	char zone[SCHED_ZONE_MAX]; /* "" = UTC */
};

/* Parses text (at most SCHED_TEXT_MAX bytes). Returns 0 or TS_EINVAL with
 * the reason in err, naming the field at fault. A cron schedule that can
 * never fire (30 2 = February 30th) is TS_EINVAL too. */
int sched_schedule_parse(const char *text, struct sched_schedule *out, struct ts_err *err);

/* The first fire time strictly after after_us (µs since the epoch) into
 * *next_us. Returns 0, or TS_ENOTFOUND for "off" and for a cron schedule with
 * no fire in the next eight years. */
int sched_schedule_next(const struct sched_schedule *s, int64_t after_us, int64_t *next_us);

/* How many fire times fall in (from_us, to_us], counting at most max;
 * *last_us gets the latest of those counted (or 0). */
int sched_schedule_count(const struct sched_schedule *s, int64_t from_us, int64_t to_us, int max,
                         int64_t *last_us);

#endif
