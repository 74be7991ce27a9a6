/*
 * Unit tests of the pure parts of retention and progress: which lake keys
 * name an hour partition, and the progress line's text.
 */
#include "base/progress.h"
#include "lake/lake_key.h"
#include "tests/unit/test.h"

static int parse(const char *key, char region[16], char day[16], int *hour)
{
	return lake_key_parse(key, region, day, hour);
}

TEST(lake_retention_parse_key_partitions)
{
	char region[16], day[16];
	int hour = -1;

	REQUIRE(parse("raw/region=EU/date=2026-11-25/hour=13/a.parquet", region, day, &hour) == 0);
	CHECK_STR(region, "EU");
	CHECK_STR(day, "2026-11-25");
	CHECK_INT(hour, 13);
	REQUIRE(parse("enriched/region=my_r-1/date=2024-02-29/hour=00/x", region, day, &hour) == 0);
	CHECK_STR(region, "my_r-1");
	CHECK_INT(hour, 0);
}

TEST(lake_retention_parse_key_refuses)
{
	static const char *const bad[] = {
	    "raw/region=EU/date=2026-11-25/hour=13",                 /* no file under the hour */
	    "raw/region=EU/date=2026-11-25/hour=24/a",               /* no such hour */
	    "raw/region=EU/date=2026-11-25/hour=1/a",                /* one digit */
	    "raw/region=EU/date=2026-02-30/hour=01/a",               /* no such day */
	    "raw/region=EU/date=2026-1-25/hour=01/a",                /* short month */
	    "raw/region=/date=2026-11-25/hour=01/a",                 /* empty region */
	    "raw/region=../date=2026-11-25/hour=01/a",               /* not a region */
	    "raw/region=ABCDEFGHIJKLMNOP/date=2026-11-25/hour=01/a", /* 16 bytes */
	    "_staging/enrich/EU-2026-11-25-13/x",                    /* not a partition */
	    "raw/region=EU/date=2026-11-25/hour=13x/a",
	    "raw/region=EU/",
	    "",
	};
	char region[16], day[16];
	int hour;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse(bad[i], region, day, &hour) == 0)
			test_fail(__FILE__, __LINE__, "accepted %s", bad[i]);
}

TEST(progress_format_line)
{
	char line[128];

	progress_format("retention", 5, 10, 10.0, "hours", line, sizeof(line));
	CHECK_STR(line, "retention: 5/10 (50%, ETA 10s) hours");
	progress_format("enrich", 1, 100, 1.0, NULL, line, sizeof(line));
	CHECK_STR(line, "enrich: 1/100 (1%)"); /* too early for an ETA */
	progress_format("enrich", 100, 100, 3.0, "", line, sizeof(line));
	CHECK_STR(line, "enrich: 100/100 (100%)");
	progress_format("aggregate", 42, 0, 3.0, "rows counted", line, sizeof(line));
	CHECK_STR(line, "aggregate: 42 rows counted");
	progress_format("aggregate", 42, 0, 3.0, "a detail far too long for the line", line, 16);
	CHECK_INT((long long)strlen(line), 15);
}

TEST(progress_off_without_a_terminal)
{
	struct progress p;

	/* the unit tests' stderr is a file or a pipe under make test */
	if (progress_setup(1))
		return;
	CHECK_INT(progress_enabled(), 0);
	progress_begin(&p, "x", 3);
	progress_update(&p, 1, "nothing is drawn"); /* must not write */
	progress_end(&p);
}
