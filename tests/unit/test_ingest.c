/*
 * ingest's file naming and routing: deterministic keys from topic,
 * partition and offsets; one file per (region, UTC date, hour).
 */
#include "tests/unit/test.h"
#include "base/timeutil.h"
#include "ingest/ingest_compact.h"
#include "ingest/ingest_file.h"
#include "parquet/parquet_chunk.h"
#include "parquet/parquet_decode.h"
#include "parquet/parquet_reader.h"

#include <unistd.h>

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
	struct play_event ev = event_at("EU", "2026-11-25T13:59:59.999+00:00");
	struct ingest_file f;
	char dir[INGEST_PATH_MAX], key[INGEST_PATH_MAX];

	ingest_batch_dir("plays", 3, 1200, dir, sizeof(dir));
	CHECK_STR(dir, "_staging/plays/p3-o1200");
	ingest_file_open(&f, dir, &ev);
	CHECK_STR(f.staged, "_staging/plays/p3-o1200/EU-2026-11-25-13.parquet");
	ingest_file_final_key(&f, "plays", 3, 1200, 1899, key, sizeof(key));
	CHECK_STR(key, "raw/region=EU/date=2026-11-25/hour=13/plays-p3-o1200-1899.parquet");
	ingest_file_abort(&f);
}

TEST(ingest_routes_by_utc_hour_and_region)
{
	struct play_event a = event_at("NA", "2026-11-25T23:30:00-05:00"); /* 04:30 UTC, 26th */
	struct play_event b = event_at("NA", "2026-11-26T04:59:59.999Z");
	struct play_event c = event_at("NA", "2026-11-26T05:00:00Z");
	struct play_event d = event_at("SA", "2026-11-26T04:10:00Z");
	struct ingest_file f;

	ingest_file_open(&f, "_staging/t/p0-o0", &a);
	CHECK_STR(f.staged, "_staging/t/p0-o0/NA-2026-11-26-04.parquet");
	CHECK(ingest_file_matches(&f, &a));
	CHECK(ingest_file_matches(&f, &b));
	CHECK(!ingest_file_matches(&f, &c));
	CHECK(!ingest_file_matches(&f, &d));
	ingest_file_abort(&f);
}

/* Rows reach the writer at close, a block of INGEST_ROWS_MAX at a time, a
 * column at a time: a file of 2 full blocks and a part of one holds every
 * row, in order, with its nulls. */
static const struct parquet_batch *column(struct parquet_reader *r, const char *name,
                                          struct parquet_chunk **ch)
{
	static struct parquet_batch b;
	struct ts_err err;
	int col = parquet_reader_column(r, name);

	if (col < 0 || parquet_chunk_open(r, 0, col, ch, &err) ||
	    parquet_chunk_next(*ch, PARQUET_BATCH_MAX, false, &b, &err))
		BUG("cannot read column %s", name);
	return &b;
}

TEST(ingest_file_rows_in_column_batches)
{
	char root[] = "/tmp/test_ingest_XXXXXX", path[INGEST_PATH_MAX * 2];
	struct ingest_lake lake = {root, NULL, 0};
	struct play_event ev = event_at("EU", "2026-11-25T13:00:00Z");
	const int n = 2 * INGEST_ROWS_MAX + 44;
	struct parquet_reader *r = NULL;
	struct parquet_chunk *ch = NULL;
	const struct parquet_batch *b;
	struct ingest_file f;
	struct ts_err err;

	REQUIRE(mkdtemp(root));
	ingest_file_open(&f, "_staging/t/p0-o0", &ev);
	for (int i = 0; i < n; i++) {
		snprintf(ev.event_id, sizeof(ev.event_id), "e%05d", i);
		snprintf(ev.user_id, sizeof(ev.user_id), "u%d", i % 7);
		snprintf(ev.song_id, sizeof(ev.song_id), "s%d", i % 3);
		snprintf(ev.country, sizeof(ev.country), "%s", i % 3 ? "DE" : "");
		ev.has_lat_lon = i % 2;
		ev.lat = i * 0.5;
		ev.lon = -i * 0.25;
		ev.has_duration = i % 5 != 0;
		ev.duration_ms = i * 10;
		REQUIRE(ingest_file_append(&f, &ev, 2, 1000 + i, 0, &err) == 0);
	}
	CHECK_INT(f.rows, n);
	REQUIRE(ingest_file_close(&f, &lake, &err) == 0);
	snprintf(path, sizeof(path), "%s/%s", root, f.staged);
	REQUIRE(parquet_reader_open_file(path, &r, &err) == 0);
	CHECK_INT(parquet_reader_footer(r)->num_rows, n);

	b = column(r, "user_id", &ch);
	REQUIRE(b->n == (size_t)n);
	for (int i = 0; i < n; i++) {
		const struct parquet_bytes *v = b->values;
		char want[8];

		snprintf(want, sizeof(want), "u%d", i % 7);
		CHECK(v[i].len == strlen(want) && !memcmp(v[i].ptr, want, v[i].len));
	}
	parquet_chunk_free(ch);
	b = column(r, "country", &ch);
	REQUIRE(b->n == (size_t)n && b->valid);
	for (int i = 0; i < n; i++)
		CHECK(b->valid[i] == (i % 3 != 0));
	parquet_chunk_free(ch);
	b = column(r, "lat", &ch);
	REQUIRE(b->n == (size_t)n && b->valid);
	for (int i = 0; i < n; i++)
		CHECK(b->valid[i] == i % 2 &&
		      (!b->valid[i] || ((const double *)b->values)[i] == i * 0.5));
	parquet_chunk_free(ch);
	b = column(r, "duration_ms", &ch);
	REQUIRE(b->n == (size_t)n && b->valid);
	for (int i = 0; i < n; i++)
		CHECK(b->valid[i] == (i % 5 != 0) &&
		      (!b->valid[i] || ((const int32_t *)b->values)[i] == i * 10));
	parquet_chunk_free(ch);
	b = column(r, "kafka_offset", &ch);
	REQUIRE(b->n == (size_t)n);
	for (int i = 0; i < n; i++)
		CHECK(((const int64_t *)b->values)[i] == 1000 + i);
	parquet_chunk_free(ch);
	parquet_reader_free(r);
	unlink(path);
}

/* An abandoned file frees its pending rows (ASan would report a leak), and
 * an open file writes nothing before it is closed. */
TEST(ingest_file_abort_with_rows_pending)
{
	char root[] = "/tmp/test_ingest_XXXXXX", staging[64];
	struct play_event ev = event_at("EU", "2026-11-25T13:00:00Z");
	struct ingest_file f;
	struct ts_err err;

	REQUIRE(mkdtemp(root));
	snprintf(ev.event_id, sizeof(ev.event_id), "e1");
	snprintf(ev.user_id, sizeof(ev.user_id), "u1");
	snprintf(ev.song_id, sizeof(ev.song_id), "s1");
	ingest_file_open(&f, "_staging/t/p0-o0", &ev);
	for (int i = 0; i < INGEST_ROWS_MAX + 3; i++)
		REQUIRE(ingest_file_append(&f, &ev, 0, i, 0, &err) == 0);
	CHECK(f.pending != NULL && f.last != NULL && f.last != f.pending); /* two blocks */
	snprintf(staging, sizeof(staging), "%s/_staging", root);
	CHECK(access(staging, F_OK) != 0);
	ingest_file_abort(&f);
	CHECK(f.pending == NULL && f.last == NULL && f.writer == NULL);
	rmdir(root);
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
