/*
 * ingest's file naming and routing: deterministic keys from topic,
 * partition and offsets; one file per (region, UTC date, hour).
 */
#include "tests/unit/test.h"
#include "base/timeutil.h"
#include "ingest/ingest_compact.h"
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
	struct ingest_lake lake = {NULL, NULL, 0};
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
	struct ingest_lake lake = {NULL, NULL, 0};
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

/* Compaction's plan: runs in name order adding up to at most the target,
 * big files and runs of one left alone, no target = one run. */
TEST(ingest_compact_plan_runs)
{
	const uint64_t size[] = {40, 30, 200, 20, 50, 60, 10, 90};
	int run[8];

	/* target 100, the small files in name order (200 is left alone):
	 * 40+30+20 | 50 (alone, so left) | 60+10 | 90 (alone) */
	CHECK_INT(ingest_compact_plan(size, 8, 100, run), 2);
	CHECK_INT(run[0], 0);
	CHECK_INT(run[1], 0);
	CHECK_INT(run[2], -1);
	CHECK_INT(run[3], 0);
	CHECK_INT(run[4], -1);
	CHECK_INT(run[5], 1);
	CHECK_INT(run[6], 1);
	CHECK_INT(run[7], -1);
	/* no target: everything in one run */
	CHECK_INT(ingest_compact_plan(size, 8, 0, run), 1);
	for (int i = 0; i < 8; i++)
		CHECK_INT(run[i], 0);
	/* every file big enough: nothing to do */
	CHECK_INT(ingest_compact_plan(size, 8, 10, run), 0);
	for (int i = 0; i < 8; i++)
		CHECK_INT(run[i], -1);
	/* a run exactly at the target still takes its files */
	CHECK_INT(ingest_compact_plan(size, 2, 70, run), 1);
	CHECK_INT(run[1], 0);
	CHECK_INT(ingest_compact_plan(size, 1, 100, run), 0);
}
