/*
 * Unit tests of store/store.c and store/store_local.c: lake URL parsing, the
 * key rules, and the local backend in a temporary folder — atomic put, get
 * caps, not found, idempotent delete, listing by prefix in key order.
 */
#include "tests/unit/test.h"

#include "store/store.h"
#include "store/store_local.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

static void rm_rf(const char *path)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", path);
}

TEST(store_url_forms)
{
	struct store_url u;
	struct ts_err err;

	REQUIRE(store_url_parse("s3://lake-bucket/a/b/", &u, &err) == 0);
	CHECK_INT(u.kind, STORE_S3);
	CHECK_STR(u.bucket, "lake-bucket");
	CHECK_STR(u.prefix, "a/b");
	REQUIRE(store_url_parse("s3://lake-bucket", &u, &err) == 0);
	CHECK_STR(u.prefix, "");
	REQUIRE(store_url_parse("s3://my.bucket-1//x", &u, &err) == 0);
	CHECK_STR(u.prefix, "x");
	REQUIRE(store_url_parse("var/lake", &u, &err) == 0);
	CHECK_INT(u.kind, STORE_LOCAL);
	CHECK_STR(u.path, "var/lake");
	REQUIRE(store_url_parse("file:///srv/lake", &u, &err) == 0);
	CHECK_STR(u.path, "/srv/lake");
	REQUIRE(store_url_parse("./a:b/lake", &u, &err) == 0); /* a colon is no scheme */
	CHECK_INT(u.kind, STORE_LOCAL);
}

TEST(store_url_refusals)
{
	struct store_url u;
	struct ts_err err;

	CHECK_INT(store_url_parse("gs://bucket/x", &u, &err), TS_EINVAL);
	CHECK(strstr(err.msg, "unsupported lake scheme") != NULL);
	CHECK_INT(store_url_parse("s3://ab/x", &u, &err), TS_EINVAL);
	CHECK(strstr(err.msg, "3 to 63") != NULL);
	CHECK_INT(store_url_parse("s3://Upper/x", &u, &err), TS_EINVAL);
	CHECK_INT(store_url_parse("s3://-bucket/x", &u, &err), TS_EINVAL);
	CHECK_INT(store_url_parse("s3://bucket/a/../b", &u, &err), TS_EINVAL);
	CHECK_INT(store_url_parse("s3://", &u, &err), TS_EINVAL);
	CHECK_INT(store_url_parse("", &u, &err), TS_EINVAL);
}

TEST(store_key_rules)
{
	char longseg[STORE_SEGMENT_MAX + 2], longkey[STORE_KEY_MAX + 2];

	CHECK_INT(store_key_check("raw/region=EU/date=2026-11-25/hour=13/f.parquet", NULL), 0);
	CHECK_INT(store_key_check(".hidden", NULL), 0);
	CHECK_INT(store_key_check("", NULL), TS_EINVAL);
	CHECK_INT(store_key_check("/abs", NULL), TS_EINVAL);
	CHECK_INT(store_key_check("a//b", NULL), TS_EINVAL);
	CHECK_INT(store_key_check("a/", NULL), TS_EINVAL);
	CHECK_INT(store_key_check("a/../b", NULL), TS_EINVAL);
	CHECK_INT(store_key_check("./a", NULL), TS_EINVAL);
	CHECK_INT(store_key_check("..", NULL), TS_EINVAL);
	CHECK_INT(store_key_check("a\nb", NULL), TS_EINVAL);
	memset(longseg, 'x', sizeof(longseg) - 1);
	longseg[sizeof(longseg) - 1] = '\0';
	CHECK_INT(store_key_check(longseg, NULL), TS_EINVAL);
	for (size_t i = 0; i < sizeof(longkey) - 1; i++)
		longkey[i] = i % 10 == 9 ? '/' : 'k';
	longkey[sizeof(longkey) - 1] = '\0';
	CHECK_INT(store_key_check(longkey, NULL), TS_EINVAL);
	CHECK_INT(store_prefix_check("", NULL), 0);
	CHECK_INT(store_prefix_check("raw/", NULL), 0);
	CHECK_INT(store_prefix_check("raw/region=E", NULL), 0);
	CHECK_INT(store_prefix_check("../", NULL), TS_EINVAL);
	CHECK_INT(store_prefix_check("/raw", NULL), TS_EINVAL);
}

/* Opens a local store in a fresh temporary folder (tmp receives its path). */
static struct store *local_store(char *tmp, size_t size)
{
	struct store *s = NULL;
	struct ts_err err;

	snprintf(tmp, size, "/tmp/topsongs-store-XXXXXX");
	if (!mkdtemp(tmp))
		return NULL;
	if (store_open(tmp, NULL, &s, &err)) {
		fprintf(stderr, "store_open: %s\n", err.msg);
		return NULL;
	}
	return s;
}

static int count_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

TEST(store_local_put_get_roundtrip)
{
	char tmp[64], path[128];
	struct store *s = local_store(tmp, sizeof(tmp));
	struct dbuf b;
	struct ts_err err;

	REQUIRE(s);
	CHECK_STR(store_describe(s), tmp);
	CHECK_INT(store_kind(s), STORE_LOCAL);
	dbuf_init(&b, 1 << 20);
	CHECK_INT(store_put(s, "raw/region=EU/f1", "hello", 5, &err), 0);
	CHECK_INT(store_get(s, "raw/region=EU/f1", 100, &b, &err), 0);
	CHECK_INT(b.len, 5);
	CHECK_STR(dbuf_str(&b), "hello");
	/* Replacing leaves exactly one file: no temporaries behind. */
	CHECK_INT(store_put(s, "raw/region=EU/f1", "bye", 3, &err), 0);
	CHECK_INT(store_get(s, "raw/region=EU/f1", 100, &b, &err), 0);
	CHECK_STR(dbuf_str(&b), "bye");
	snprintf(path, sizeof(path), "%s/raw/region=EU", tmp);
	CHECK_INT(count_files(path), 1);
	/* An empty object is an object. */
	CHECK_INT(store_put(s, "empty", "", 0, &err), 0);
	CHECK_INT(store_get(s, "empty", 100, &b, &err), 0);
	CHECK_INT(b.len, 0);
	dbuf_release(&b);
	store_free(s);
	rm_rf(tmp);
}

/* The last n bytes and the whole size, for footers; an empty object has an
 * empty tail; a folder or an absent key is not found. */
TEST(store_local_get_tail)
{
	char tmp[64];
	struct store *s = local_store(tmp, sizeof(tmp));
	struct dbuf b;
	struct ts_err err;
	uint64_t size = 0;

	REQUIRE(s);
	dbuf_init(&b, 1 << 20);
	CHECK_INT(store_put(s, "raw/f", "hello world", 11, &err), 0);
	CHECK_INT(store_get_tail(s, "raw/f", 5, &b, &size, &err), 0);
	CHECK_STR(dbuf_str(&b), "world");
	CHECK_INT(size, 11);
	CHECK_INT(store_get_tail(s, "raw/f", 100, &b, &size, &err), 0);
	CHECK_STR(dbuf_str(&b), "hello world");
	CHECK_INT(store_put(s, "empty", "", 0, &err), 0);
	CHECK_INT(store_get_tail(s, "empty", 5, &b, &size, &err), 0);
	CHECK_INT(b.len, 0);
	CHECK_INT(size, 0);
	CHECK_INT(store_get_tail(s, "raw", 5, &b, &size, &err), TS_ENOTFOUND);
	CHECK_INT(store_get_tail(s, "nothing", 5, &b, &size, &err), TS_ENOTFOUND);
	CHECK_INT(store_get_tail(s, "../x", 5, &b, &size, &err), TS_EINVAL);
	dbuf_release(&b);
	store_free(s);
	rm_rf(tmp);
}

/* Bytes [off, off + len): exactly those, past the end refused, an absent
 * key not found. */
TEST(store_local_get_range)
{
	char tmp[64], got[16];
	struct store *s = local_store(tmp, sizeof(tmp));
	struct ts_err err;

	REQUIRE(s);
	CHECK_INT(store_put(s, "raw/f", "hello world", 11, &err), 0);
	memset(got, 0, sizeof(got));
	CHECK_INT(store_get_range(s, "raw/f", 6, 5, got, &err), 0);
	CHECK_STR(got, "world");
	CHECK_INT(store_get_range(s, "raw/f", 0, 11, got, &err), 0);
	CHECK(!memcmp(got, "hello world", 11));
	CHECK_INT(store_get_range(s, "raw/f", 7, 5, got, &err), TS_ECORRUPT);
	CHECK(strstr(err.msg, "past its end") != NULL);
	CHECK_INT(store_get_range(s, "raw/f", 12, 0, got, &err), TS_ECORRUPT);
	CHECK_INT(store_get_range(s, "nothing", 0, 1, got, &err), TS_ENOTFOUND);
	store_free(s);
	rm_rf(tmp);
}

TEST(store_local_get_caps_and_absent)
{
	char tmp[64];
	struct store *s = local_store(tmp, sizeof(tmp));
	struct dbuf b;
	struct ts_err err;

	REQUIRE(s);
	dbuf_init(&b, 1 << 20);
	CHECK_INT(store_put(s, "k", "0123456789", 10, &err), 0);
	CHECK_INT(store_get(s, "k", 9, &b, &err), TS_ETOOBIG);
	CHECK(strstr(err.msg, "more than the 9 allowed") != NULL);
	CHECK(b.buf == NULL); /* nothing allocated for an object over the cap */
	CHECK_INT(store_get(s, "k", 10, &b, &err), 0);
	CHECK_INT(store_get(s, "missing", 10, &b, &err), TS_ENOTFOUND);
	CHECK(strstr(err.msg, "missing: no such object") != NULL);
	CHECK_INT(store_get(s, "k/under-a-file", 10, &b, &err), TS_ENOTFOUND);
	CHECK_INT(store_put(s, "dir/x", "1", 1, &err), 0);
	CHECK_INT(store_get(s, "dir", 10, &b, &err), TS_ENOTFOUND); /* a folder is no object */
	CHECK_INT(store_get(s, "../etc/passwd", 10, &b, &err), TS_EINVAL);
	dbuf_release(&b);
	store_free(s);
	rm_rf(tmp);
}

TEST(store_local_delete_is_idempotent)
{
	char tmp[64];
	struct store *s = local_store(tmp, sizeof(tmp));
	struct dbuf b;
	struct ts_err err;

	REQUIRE(s);
	dbuf_init(&b, 100);
	CHECK_INT(store_put(s, "a/b", "x", 1, &err), 0);
	CHECK_INT(store_delete(s, "a/b", &err), 0);
	CHECK_INT(store_get(s, "a/b", 10, &b, &err), TS_ENOTFOUND);
	CHECK_INT(store_delete(s, "a/b", &err), 0);
	CHECK_INT(store_delete(s, "never/was", &err), 0);
	dbuf_release(&b);
	store_free(s);
	rm_rf(tmp);
}

/* store_move in a folder: a rename into a new folder, idempotent once done,
 * TS_ENOTFOUND when neither side exists. */
TEST(store_local_move)
{
	char tmp[64], path[128];
	struct store *s = local_store(tmp, sizeof(tmp));
	struct dbuf b;
	struct ts_err err;

	REQUIRE(s);
	dbuf_init(&b, 100);
	CHECK_INT(store_put(s, "_staging/x/f", "hello", 5, &err), 0);
	CHECK_INT(store_move(s, "_staging/x/f", "raw/h=1/f", 100, &err), 0);
	CHECK_INT(store_get(s, "_staging/x/f", 10, &b, &err), TS_ENOTFOUND);
	CHECK_INT(store_get(s, "raw/h=1/f", 10, &b, &err), 0);
	CHECK(b.len == 5 && !memcmp(b.buf, "hello", 5));
	CHECK_INT(store_move(s, "_staging/x/f", "raw/h=1/f", 100, &err), 0); /* done already */
	CHECK_INT(store_move(s, "_staging/x/g", "raw/h=1/g", 100, &err), TS_ENOTFOUND);
	CHECK_INT(store_move(s, "../f", "raw/f", 100, &err), TS_EINVAL);
	snprintf(path, sizeof(path), "%s/_staging/x", tmp);
	CHECK_INT(count_files(path), 0);
	dbuf_release(&b);
	store_free(s);
	rm_rf(tmp);
}

struct listing {
	char keys[16][64];
	uint64_t sizes[16];
	int n;
};

static int collect(const struct store_entry *e, void *arg)
{
	struct listing *l = arg;

	if (l->n == 16)
		return -100;
	snprintf(l->keys[l->n], sizeof(l->keys[0]), "%s", e->key);
	l->sizes[l->n++] = e->size;
	return 0;
}

TEST(store_local_list_prefixes_in_key_order)
{
	static const char *const keys[] = {"raw/region=EU/h=1/b",
	                                   "raw/region=EU/h=1/a",
	                                   "raw/region=EUX/z",
	                                   "raw/region=EU-2",
	                                   "raw/a-b",
	                                   "enriched/x",
	                                   "top"};
	char tmp[64], stray[128];
	struct store *s = local_store(tmp, sizeof(tmp));
	struct listing l;
	struct ts_err err;
	FILE *f;

	REQUIRE(s);
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		CHECK_INT(store_put(s, keys[i], keys[i], strlen(keys[i]), &err), 0);
	/* A file no key can name is not listed. */
	snprintf(stray, sizeof(stray), "%s/raw/bad\nname", tmp);
	f = fopen(stray, "w");
	REQUIRE(f);
	fclose(f);
	/* A leftover temporary file of a crashed put is never listed. */
	snprintf(stray, sizeof(stray), "%s/raw/" STORE_LOCAL_TMP_PREFIX "1-1", tmp);
	f = fopen(stray, "w");
	REQUIRE(f);
	fclose(f);
	memset(&l, 0, sizeof(l));
	CHECK_INT(store_list(s, "", collect, &l, &err), 0);
	REQUIRE(l.n == 7);
	/* Byte order of the whole key: '-' (0x2d) < '/' (0x2f) < 'X'. */
	CHECK_STR(l.keys[0], "enriched/x");
	CHECK_STR(l.keys[1], "raw/a-b");
	CHECK_STR(l.keys[2], "raw/region=EU-2");
	CHECK_STR(l.keys[3], "raw/region=EU/h=1/a");
	CHECK_STR(l.keys[4], "raw/region=EU/h=1/b");
	CHECK_STR(l.keys[5], "raw/region=EUX/z");
	CHECK_STR(l.keys[6], "top");
	CHECK_INT(l.sizes[6], 3);
	memset(&l, 0, sizeof(l));
	CHECK_INT(store_list(s, "raw/region=EU/", collect, &l, &err), 0);
	CHECK_INT(l.n, 2);
	memset(&l, 0, sizeof(l));
	CHECK_INT(store_list(s, "raw/region=EU", collect, &l, &err), 0);
	CHECK_INT(l.n, 4);
	memset(&l, 0, sizeof(l));
	CHECK_INT(store_list(s, "nothing/", collect, &l, &err), 0);
	CHECK_INT(l.n, 0);
	/* The callback stops the walk with its own value. */
	memset(&l, 0, sizeof(l));
	l.n = 15;
	CHECK_INT(store_list(s, "", collect, &l, &err), -100);
	store_free(s);
	rm_rf(tmp);
}

TEST(store_local_open_and_put_failures)
{
	char tmp[64], file[128], dir[160];
	struct store *s = local_store(tmp, sizeof(tmp)), *t = NULL;
	struct ts_err err;
	FILE *f;

	REQUIRE(s);
	snprintf(file, sizeof(file), "%s/plain", tmp);
	f = fopen(file, "w");
	REQUIRE(f);
	fclose(f);
	snprintf(dir, sizeof(dir), "%s/lake", file);
	CHECK_INT(store_open(dir, NULL, &t, &err), TS_EIO);
	CHECK(t == NULL);
	CHECK(strstr(err.msg, "cannot create folder") && strstr(err.msg, "Not a directory"));
	CHECK_INT(store_put(s, "plain/x", "1", 1, &err), TS_EIO);
	CHECK(strstr(err.msg, "Not a directory") != NULL);
	store_free(s);
	store_free(NULL);
	rm_rf(tmp);
}
