/*
 * Schedules: parsing (good and bad), next-fire times of intervals and cron
 * (steps, lists, ranges, names, the day-of-month/day-of-week rule) and
 * daylight saving in Europe/Berlin and America/New_York.
 */
#include "base/timeutil.h"
#include "sched/sched_schedule.h"
#include "tests/unit/test.h"

static int64_t at(const char *rfc3339)
{
	int64_t us = 0;
	const char *why;

	if (time_parse_rfc3339(rfc3339, strlen(rfc3339), &us, &why))
		BUG("bad test time %s", rfc3339);
	return us;
}

/* The next fire after `after` as RFC 3339 UTC (or "none"). */
static const char *next_str(const char *sched, const char *after)
{
	static char out[64];
	struct sched_schedule s;
	struct ts_err err;
	int64_t next;

	if (sched_schedule_parse(sched, &s, &err))
		return "parse error";
	if (sched_schedule_next(&s, at(after), &next))
		return "none";
	time_format_rfc3339_ms(next, out, sizeof(out));
	return out;
}

TEST(sched_schedule_every)
{
	CHECK_STR(next_str("every 2s", "2026-11-25T10:00:00Z"), "2026-11-25T10:00:02.000Z");
	CHECK_STR(next_str("every 2s", "2026-11-25T10:00:01.500Z"), "2026-11-25T10:00:02.000Z");
	CHECK_STR(next_str("every 5m", "2026-11-25T10:03:00Z"), "2026-11-25T10:05:00.000Z");
	CHECK_STR(next_str("every 1h", "2026-11-25T10:59:59.999Z"), "2026-11-25T11:00:00.000Z");
	CHECK_STR(next_str("  every   1d ", "2026-11-25T10:00:00Z"), "2026-11-26T00:00:00.000Z");
	CHECK_STR(next_str("off", "2026-11-25T10:00:00Z"), "none");
}

TEST(sched_schedule_cron_utc)
{
	CHECK_STR(next_str("cron */5 * * * *", "2026-11-25T10:03:10Z"), "2026-11-25T10:05:00.000Z");
	CHECK_STR(next_str("cron */5 * * * *", "2026-11-25T10:05:00Z"), "2026-11-25T10:10:00.000Z");
	CHECK_STR(next_str("cron 0 9-17/4 * * *", "2026-11-25T13:00:00Z"),
	          "2026-11-25T17:00:00.000Z");
	CHECK_STR(next_str("cron 0 9-17/4 * * *", "2026-11-25T17:00:00Z"),
	          "2026-11-26T09:00:00.000Z");
	CHECK_STR(next_str("cron 15,45 3 * * *", "2026-11-25T03:20:00Z"),
	          "2026-11-25T03:45:00.000Z");
	CHECK_STR(next_str("cron 0 0 1 jan,Jul *", "2026-02-01T00:00:00Z"),
	          "2026-07-01T00:00:00.000Z");
	/* 2026-11-25 is a Wednesday; the next Monday is the 30th. */
	CHECK_STR(next_str("cron 30 8 * * MON", "2026-11-25T00:00:00Z"),
	          "2026-11-30T08:30:00.000Z");
	CHECK_STR(next_str("cron 0 12 * * 7", "2026-11-25T00:00:00Z"), "2026-11-29T12:00:00.000Z");
	CHECK_STR(next_str("cron 0 12 * * 0", "2026-11-25T00:00:00Z"), "2026-11-29T12:00:00.000Z");
	/* day of month and day of week both restricted: either matches */
	CHECK_STR(next_str("cron 0 0 1 * 5", "2026-11-25T00:00:00Z"), "2026-11-27T00:00:00.000Z");
	CHECK_STR(next_str("cron 0 0 1 * 5", "2026-11-28T00:00:00Z"), "2026-12-01T00:00:00.000Z");
	/* ...but with one of them '*', both must */
	CHECK_STR(next_str("cron 0 0 */10 * *", "2026-11-25T00:00:00Z"),
	          "2026-12-01T00:00:00.000Z");
	CHECK_STR(next_str("cron 0 0 29 2 *", "2026-03-01T00:00:00Z"), "2028-02-29T00:00:00.000Z");
	CHECK_STR(next_str("@daily", "2026-11-25T00:00:00Z"), "2026-11-26T00:00:00.000Z");
	CHECK_STR(next_str("@hourly UTC", "2026-11-25T00:00:00Z"), "2026-11-25T01:00:00.000Z");
	CHECK_STR(next_str("@monthly", "2026-12-15T00:00:00Z"), "2027-01-01T00:00:00.000Z");
}

TEST(sched_schedule_cron_zone)
{
	/* Paris is UTC+1 in winter: 02:00 local is 01:00Z. */
	CHECK_STR(next_str("cron 0 2 * * * Europe/Paris", "2026-11-25T00:00:00Z"),
	          "2026-11-25T01:00:00.000Z");
	CHECK_STR(next_str("cron 0 9 * * * America/New_York", "2026-07-01T00:00:00Z"),
	          "2026-07-01T13:00:00.000Z");
	CHECK_STR(next_str("cron 0 9 * * * America/New_York", "2026-12-01T00:00:00Z"),
	          "2026-12-01T14:00:00.000Z");
}

TEST(sched_schedule_dst_berlin)
{
	/* 2026-03-29: 02:00 CET jumps to 03:00 CEST (at 01:00Z). 02:30 does not
	 * exist: it fires once, when the gap ends. */
	CHECK_STR(next_str("cron 30 2 * * * Europe/Berlin", "2026-03-28T12:00:00Z"),
	          "2026-03-29T01:00:00.000Z");
	CHECK_STR(next_str("cron 30 2 * * * Europe/Berlin", "2026-03-29T01:00:00Z"),
	          "2026-03-30T00:30:00.000Z");
	/* every 15 minutes across the gap: 01:45 CET, then 03:00 CEST once */
	CHECK_STR(next_str("cron */15 * * * * Europe/Berlin", "2026-03-29T00:45:00Z"),
	          "2026-03-29T01:00:00.000Z");
	CHECK_STR(next_str("cron */15 * * * * Europe/Berlin", "2026-03-29T01:00:00Z"),
	          "2026-03-29T01:15:00.000Z");
	/* 2026-10-25: 03:00 CEST falls back to 02:00 CET (at 01:00Z). 02:30
	 * happens twice; it fires at the first one only. */
	CHECK_STR(next_str("cron 30 2 * * * Europe/Berlin", "2026-10-24T12:00:00Z"),
	          "2026-10-25T00:30:00.000Z");
	CHECK_STR(next_str("cron 30 2 * * * Europe/Berlin", "2026-10-25T00:30:00Z"),
	          "2026-10-26T01:30:00.000Z");
	/* every 15 minutes through the overlap: the repeated hour does not
	 * fire again, the next fire is 03:00 CET */
	CHECK_STR(next_str("cron */15 * * * * Europe/Berlin", "2026-10-25T00:45:00Z"),
	          "2026-10-25T02:00:00.000Z");
	CHECK_STR(next_str("cron */15 * * * * Europe/Berlin", "2026-10-25T01:10:00Z"),
	          "2026-10-25T02:00:00.000Z");
}

TEST(sched_schedule_dst_new_york)
{
	/* 2026-03-08 02:00 EST -> 03:00 EDT (07:00Z); 2026-11-01 02:00 EDT -> 01:00 EST (06:00Z) */
	CHECK_STR(next_str("cron 0 2 * * * America/New_York", "2026-03-07T12:00:00Z"),
	          "2026-03-08T07:00:00.000Z");
	CHECK_STR(next_str("cron 30 1 * * * America/New_York", "2026-10-31T12:00:00Z"),
	          "2026-11-01T05:30:00.000Z");
	CHECK_STR(next_str("cron 30 1 * * * America/New_York", "2026-11-01T05:30:00Z"),
	          "2026-11-02T06:30:00.000Z");
}

TEST(sched_schedule_count)
{
	struct sched_schedule s;
	int64_t last;

	REQUIRE(!sched_schedule_parse("every 10s", &s, NULL));
	CHECK_INT(sched_schedule_count(&s, at("2026-11-25T10:00:00Z"), at("2026-11-25T10:01:00Z"),
	                               100, &last),
	          6);
	CHECK_INT(last, at("2026-11-25T10:01:00Z"));
	CHECK_INT(sched_schedule_count(&s, at("2026-11-25T10:00:00Z"), at("2026-11-25T10:01:00Z"),
	                               2, &last),
	          2);
	CHECK_INT(last, at("2026-11-25T10:00:20Z"));
	CHECK_INT(sched_schedule_count(&s, at("2026-11-25T10:00:00Z"), at("2026-11-25T10:00:05Z"),
	                               100, &last),
	          0);
	CHECK_INT(last, 0);
}

TEST(sched_schedule_bad)
{
	static const char *const bad[] = {
	    "",
	    "   ",
	    "every",
	    "every 0s",
	    "every 5",
	    "every 5x",
	    "every -5s",
	    "every 367d",
	    "every 99999999999s",
	    "cron * * * *",
	    "cron * * * * * * * *",
	    "cron 60 * * * *",
	    "cron * 24 * * *",
	    "cron * * 0 * *",
	    "cron * * 32 * *",
	    "cron * * * 13 *",
	    "cron * * * * 8",
	    "cron 5-1 * * * *",
	    "cron */0 * * * *",
	    "cron 1,,2 * * * *",
	    "cron 1, * * * *",
	    "cron */ * * * *",
	    "cron *5 * * * *",
	    "cron 0 0 30 2 *",
	    "cron 0 0 31 4,6,9,11 *",
	    "cron * * * FOO *",
	    "cron * * * * * Mars/Olympus",
	    "cron * * * * * ../../etc/passwd",
	    "cron * * * * * /etc/passwd",
	    "cron * * * * * zone.tab",
	    "@sometimes",
	    "@daily Nowhere/Land",
	    "daily",
	};
	struct sched_schedule s;
	struct ts_err err;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		ts_err_clear(&err);
		if (sched_schedule_parse(bad[i], &s, &err) != TS_EINVAL || !err.msg[0])
			test_fail(__FILE__, __LINE__, "'%s' was accepted", bad[i]);
	}
	CHECK(sched_schedule_parse("cron 1 2 3 4 5 Europe/Berlin extra", &s, &err) == TS_EINVAL);
	CHECK(strstr(err.msg, "expected") != NULL);
	CHECK(sched_schedule_parse("cron 61 * * * *", &s, &err) == TS_EINVAL);
	CHECK(strstr(err.msg, "minute") != NULL);
	CHECK(sched_schedule_parse("cron * * * * * Mars/Olympus", &s, &err) == TS_EINVAL);
	CHECK(strstr(err.msg, "time zone") != NULL);
}
