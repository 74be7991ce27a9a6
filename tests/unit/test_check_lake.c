/*
 * Unit tests of check/check_lake and check/check_api that need no service:
 * a local lake in a temporary folder, an S3 lake without credentials or on a
 * closed port, and the api probe on a closed port.
 */
#include "tests/unit/test.h"

#include "base/config.h"
#include "base/error.h"
#include "base/timeutil.h"
#include "check/check_api.h"
#include "check/check_lake.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

static int count_entries(const char *dir)
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

static int lake(const char *url, struct check_result *r)
{
	struct ts_config cfg;
	int rc;

	config_init(&cfg);
	config_set(&cfg, "lake.url", url, "test", NULL);
	memset(r, 0, sizeof(*r));
	rc = check_lake_probe(&cfg, 1000, r);
	config_release(&cfg);
	return rc;
}

TEST(check_lake_creates_folder_and_leaves_nothing)
{
	char tmp[] = "/tmp/topsongs-check-XXXXXX", dir[256];
	struct check_result r;

	REQUIRE(mkdtemp(tmp));
	snprintf(dir, sizeof(dir), "%s/a/b/lake", tmp);
	CHECK_INT(lake(dir, &r), 0);
	CHECK_INT(r.status, CHECK_OK);
	CHECK_STR(r.target, dir);
	CHECK_INT(count_entries(dir), 0);
	rmdir(dir);
	snprintf(dir, sizeof(dir), "%s/a/b", tmp);
	rmdir(dir);
	snprintf(dir, sizeof(dir), "%s/a", tmp);
	rmdir(dir);
	rmdir(tmp);
}

TEST(check_lake_under_a_file_fails)
{
	char tmp[] = "/tmp/topsongs-check-XXXXXX", file[256], dir[300];
	struct check_result r;
	FILE *f;

	REQUIRE(mkdtemp(tmp));
	snprintf(file, sizeof(file), "%s/file", tmp);
	f = fopen(file, "w");
	REQUIRE(f);
	fclose(f);
	snprintf(dir, sizeof(dir), "%s/lake", file);
	CHECK(lake(dir, &r) < 0);
	CHECK_INT(r.status, CHECK_FAILED);
	CHECK(strstr(r.reason, "cannot create folder") != NULL);
	CHECK(strstr(r.reason, "Not a directory") != NULL);
	unlink(file);
	rmdir(tmp);
}

TEST(check_lake_s3_needs_credentials)
{
	struct check_result r;

	CHECK(lake("s3://bucket/prefix", &r) < 0);
	CHECK_INT(r.status, CHECK_FAILED);
	CHECK(strstr(r.reason, "s3.access-key and s3.secret-key must be set") != NULL);
	CHECK_STR(r.target, "s3://bucket/prefix");
}

TEST(check_lake_s3_unreachable_is_bounded)
{
	struct ts_config cfg;
	struct check_result r;
	int64_t t0 = time_mono_us();

	config_init(&cfg);
	config_set(&cfg, "lake.url", "s3://bucket/prefix", "test", NULL);
	config_set(&cfg, "s3.endpoint", "http://127.0.0.1:1", "test", NULL);
	config_set(&cfg, "s3.access-key", "AKIDEXAMPLE", "test", NULL);
	config_set(&cfg, "s3.secret-key", "sekrit-sekrit-sekrit", "test", NULL);
	memset(&r, 0, sizeof(r));
	CHECK_INT(check_lake_probe(&cfg, 800, &r), TS_EUNAVAIL);
	CHECK(time_mono_us() - t0 < 2000000);
	CHECK_INT(r.status, CHECK_FAILED);
	CHECK(!strncmp(r.reason, "s3: cannot connect to http://127.0.0.1:1 (", 42));
	CHECK_STR(r.target, "s3://bucket/prefix at http://127.0.0.1:1");
	CHECK(!strstr(r.reason, "sekrit") && !strstr(r.target, "sekrit"));
	config_release(&cfg);
}

TEST(check_api_url_forms)
{
	char url[128];

	check_api_url("127.0.0.1:8080", url, sizeof(url));
	CHECK_STR(url, "http://127.0.0.1:8080/healthz");
	check_api_url("0.0.0.0:9000", url, sizeof(url));
	CHECK_STR(url, "http://127.0.0.1:9000/healthz");
	check_api_url("[::]:9000", url, sizeof(url));
	CHECK_STR(url, "http://[::1]:9000/healthz");
	check_api_url("[::1]:81", url, sizeof(url));
	CHECK_STR(url, "http://[::1]:81/healthz");
	check_api_url("api.local:80", url, sizeof(url));
	CHECK_STR(url, "http://api.local:80/healthz");
}

TEST(check_api_probe_closed_port)
{
	struct ts_config cfg;
	struct check_result r;

	config_init(&cfg);
	REQUIRE(config_set(&cfg, "api.listen", "127.0.0.1:1", "test", NULL) == 0);
	check_api_prepare();
	memset(&r, 0, sizeof(r));
	CHECK(check_api_probe(&cfg, 1000, &r) < 0);
	CHECK_INT(r.status, CHECK_FAILED);
	CHECK(!strncmp(r.reason, "connection refused at 127.0.0.1:1", 33));
	config_release(&cfg);
}
