/*
 * ingest's file naming and routing: deterministic keys from topic,
 * partition and offsets; one file per (region, UTC date, hour).
 */
#include "tests/unit/test.h"
#include "base/timeutil.h"
#include "ingest/ingest_file.h"

static struct play_event event_at(const char *region, const char *ts)
{
	struct play_event ev;
	const char *why;

	memset(&ev, 0, sizeof(ev));
	snprintf(ev.region, sizeof(ev.region), "%s", region);
	if (time_parse_rfc3339(ts, strlen(ts), &ev.ts_us, &why))
		BUG("bad test time %s", ts);
	return ev;
}

TEST(ingest_keys_are_deterministic)
{
	struct ingest_lake lake = {NULL, NULL};
	struct play_event ev = event_at("EU", "2026-11-25T13:59:59.999+00:00");
	struct ingest_file f;
	char dir[INGEST_PATH_MAX], key[INGEST_PATH_MAX];
	struct ts_err err;

	ingest_batch_dir("plays", 3, 1200, dir, sizeof(dir));
	CHECK_STR(dir, "_staging/plays/p3-o1200");
	REQUIRE(ingest_file_open(&f, &lake, dir, &ev, &err) == 0);
	CHECK_STR(f.staged, "_staging/plays/p3-o1200/EU-2026-11-25-13.parquet");
	ingest_file_final_key(&f, "plays", 3, 1200, 1899, key, sizeof(key));
	CHECK_STR(key, "raw/region=EU/date=2026-11-25/hour=13/plays-p3-o1200-1899.parquet");
	ingest_file_abort(&f);
}

TEST(ingest_routes_by_utc_hour_and_region)
{
	struct ingest_lake lake = {NULL, NULL};
	struct play_event a = event_at("NA", "2026-11-25T23:30:00-05:00"); /* 04:30 UTC, 26th */
	struct play_event b = event_at("NA", "2026-11-26T04:59:59.999Z");
	struct play_event c = event_at("NA", "2026-11-26T05:00:00Z");
	struct play_event d = event_at("SA", "2026-11-26T04:10:00Z");
	struct ingest_file f;
	struct ts_err err;

	REQUIRE(ingest_file_open(&f, &lake, "_staging/t/p0-o0", &a, &err) == 0);
	CHECK_STR(f.staged, "_staging/t/p0-o0/NA-2026-11-26-04.parquet");
	CHECK(ingest_file_matches(&f, &a));
	CHECK(ingest_file_matches(&f, &b));
	CHECK(!ingest_file_matches(&f, &c));
	CHECK(!ingest_file_matches(&f, &d));
	ingest_file_abort(&f);
}
