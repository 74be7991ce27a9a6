/* The api journal's record format (src/api/api_journal.h): encode, parse,
 * and what a damaged segment does; and a segment's life on disk. */
#include "base/common.h"
#include "api/api_journal.h"
#include "base/dbuf.h"
#include "base/fsutil.h"
#include "test.h"

#include <unistd.h>

static int print_record(const char *region, int32_t hour, int64_t plays, void *arg)
{
	dbuf_addf(arg, "%s %d %lld\n", region, (int)hour, (long long)plays);
	return 0;
}

static const char *parse(const void *buf, size_t len, struct dbuf *out, int *rc)
{
	struct ts_err err;

	dbuf_reset(out);
	ts_err_clear(&err);
	*rc = api_journal_parse(buf, len, print_record, out, &err);
	if (*rc)
		dbuf_addf(out, "error: %s", err.msg);
	return dbuf_str(out);
}

TEST(api_journal_round_trip)
{
	unsigned char buf[3 * API_JOURNAL_RECORD + 5];
	struct dbuf out;
	int rc;

	dbuf_init(&out, 1 << 16);
	CHECK_INT(api_journal_encode("EU", 493000, 3, buf), 0);
	CHECK_INT(api_journal_encode("LATAM123", -2, 2147483647, buf + 16), 0);
	CHECK_INT(api_journal_encode("AS", 0, 1, buf + 32), 0);
	CHECK_STR(parse(buf, 48, &out, &rc), "EU 493000 3\nLATAM123 -2 2147483647\nAS 0 1\n");
	CHECK_INT(rc, 0);
	/* A last record cut short (a power loss mid-write) is not read. */
	CHECK_STR(parse(buf, 40, &out, &rc), "EU 493000 3\nLATAM123 -2 2147483647\n");
	CHECK_INT(rc, 0);
	CHECK_STR(parse(buf, 0, &out, &rc), "");
	dbuf_release(&out);
}

TEST(api_journal_encode_refuses)
{
	unsigned char buf[API_JOURNAL_RECORD];

	CHECK_INT(api_journal_encode("", 1, 1, buf), TS_EINVAL);
	CHECK_INT(api_journal_encode("TOOLONGXX", 1, 1, buf), TS_EINVAL);
	CHECK_INT(api_journal_encode("EU", 1, 0, buf), TS_EINVAL);
	CHECK_INT(api_journal_encode("EU", 1, 2147483648LL, buf), TS_EINVAL);
}

TEST(api_journal_damaged_records)
{
	unsigned char buf[2 * API_JOURNAL_RECORD];
	struct dbuf out;
	int rc;

	dbuf_init(&out, 1 << 16);
	CHECK_INT(api_journal_encode("EU", 7, 2, buf), 0);
	CHECK_INT(api_journal_encode("NA", 8, 5, buf + 16), 0);
	buf[16 + 12] = buf[16 + 13] = buf[16 + 14] = buf[16 + 15] = 0; /* zero plays */
	CHECK_STR(parse(buf, 32, &out, &rc), "EU 7 2\nerror: journal record at byte 16: bad plays");
	CHECK_INT(rc, TS_ECORRUPT);
	CHECK_INT(api_journal_encode("NA", 8, 5, buf + 16), 0);
	buf[16 + 15] = 0x80; /* plays over 2^31-1 */
	parse(buf, 32, &out, &rc);
	CHECK_INT(rc, TS_ECORRUPT);
	CHECK_INT(api_journal_encode("NA", 8, 5, buf + 16), 0);
	buf[16 + 3] = 'X'; /* a byte after the region's NUL */
	CHECK_STR(parse(buf, 32, &out, &rc),
	          "EU 7 2\nerror: journal record at byte 16: bad region");
	memset(buf, 0, 16); /* no region at all */
	parse(buf, 32, &out, &rc);
	CHECK_INT(rc, TS_ECORRUPT);
	buf[0] = '\n'; /* not a printable region */
	parse(buf, 32, &out, &rc);
	CHECK_INT(rc, TS_ECORRUPT);
	dbuf_release(&out);
}

/* Segments: appended to, rotated, deleted once committed; close keeps or
 * removes what is left. */
TEST(api_journal_segments)
{
	char dir[] = "/tmp/ts-journal-XXXXXX", path[256];
	unsigned char rec[API_JOURNAL_RECORD];
	struct api_journal *j = NULL;
	struct ts_err err;

	REQUIRE(mkdtemp(dir));
	REQUIRE(!api_journal_open(dir, "h:1:2", &j, &err));
	CHECK_INT((int)api_journal_rotate(j), 0); /* nothing written: nothing ended */
	CHECK_INT(api_journal_encode("EU", 1, 1, rec), 0);
	api_journal_append(j, rec, sizeof(rec));
	CHECK_INT((int)api_journal_rotate(j), 1);
	api_journal_append(j, rec, sizeof(rec));
	snprintf(path, sizeof(path), "%s/h:1:2.1.journal", dir);
	CHECK(fs_exists(path));
	api_journal_committed(j, 1);
	CHECK(!fs_exists(path));
	snprintf(path, sizeof(path), "%s/h:1:2.2.journal", dir);
	CHECK(fs_exists(path));
	/* A folder name too long for the journal's paths is refused, not cut. */
	{
		struct api_journal *k = NULL;
		char long_dir[1100];
		memset(long_dir, 'd', sizeof(long_dir) - 1);
		long_dir[sizeof(long_dir) - 1] = '\0';
		CHECK_INT(api_journal_open(long_dir, "h:1:3", &k, &err), TS_EINVAL);
	}
	/* A second instance of the same name cannot take the lock. */
	{
		struct api_journal *k = NULL;
		CHECK(api_journal_open(dir, "h:1:2", &k, &err) != 0);
	}
	/* A checkpoint (PostgreSQL unreachable) replaces every segment so far. */
	api_journal_checkpoint(j, rec, sizeof(rec), 0);
	CHECK(!fs_exists(path));
	snprintf(path, sizeof(path), "%s/h:1:2.3.journal", dir);
	CHECK(fs_exists(path));
	/* One that keeps segments <= 3 (a flush in doubt covered them) replaces
	 * only the segments after 3. */
	api_journal_append(j, rec, sizeof(rec));
	api_journal_checkpoint(j, rec, sizeof(rec), 3); /* ends 3, writes 4 */
	CHECK(fs_exists(path));
	api_journal_append(j, rec, sizeof(rec));
	api_journal_checkpoint(j, rec, sizeof(rec), 3); /* ends 4, writes 5, drops 4 */
	CHECK(fs_exists(path));
	snprintf(path, sizeof(path), "%s/h:1:2.4.journal", dir);
	CHECK(!fs_exists(path));
	api_journal_committed(j, 4); /* the doubt settled: 3 can go */
	snprintf(path, sizeof(path), "%s/h:1:2.3.journal", dir);
	CHECK(!fs_exists(path));
	snprintf(path, sizeof(path), "%s/h:1:2.5.journal", dir);
	CHECK(fs_exists(path));
	api_journal_close(j, 0);
	CHECK(fs_exists(path)); /* kept: not committed */
	REQUIRE(!api_journal_open(dir, "h:1:2", &j, &err));
	api_journal_close(j, 1);
	snprintf(path, sizeof(path), "%s/h:1:2.lock", dir);
	CHECK(!fs_exists(path));
	fs_remove_tree(dir, &err);
}
