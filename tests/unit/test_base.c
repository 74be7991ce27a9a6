/*
 * The base layer: time parsing and formatting, buffers with ceilings, the
 * configuration table and its precedence, folder chains.
 */
#include "tests/unit/test.h"
#include "base/config.h"
#include "base/dbuf.h"
#include "base/fsutil.h"
#include "base/timeutil.h"

#include <sys/stat.h>

static int64_t ts(const char *s)
{
	int64_t us = -1;
	const char *why;

	if (time_parse_rfc3339(s, strlen(s), &us, &why))
		return -1;
	return us;
}

TEST(time_parse_examples)
{
	CHECK_INT(ts("1970-01-01T00:00:00Z"), 0);
	CHECK_INT(ts("1970-01-01T00:00:01.5Z"), 1500000);
	CHECK_INT(ts("1970-01-01T01:00:00+01:00"), 0);
	CHECK_INT(ts("1969-12-31T23:00:00-01:00"), 0);
	CHECK_INT(ts("2000-02-29T00:00:00z"), 951782400LL * 1000000);
	CHECK_INT(ts("2026-11-25T13:00:00.123456789Z"), 1795611600123456LL);
	CHECK_INT(ts("2001-02-29T00:00:00Z"), -1);
	CHECK_INT(ts("2026-11-25T24:00:00Z"), -1);
	CHECK_INT(ts("2026-11-25T23:59:60Z"), -1);
	CHECK_INT(ts("2026-11-25T13:00:00"), -1);
	CHECK_INT(ts("2026-11-25T13:00:00+0100"), -1);
	CHECK_INT(ts("2026-11-25T13:00:00.Z"), -1);
	CHECK_INT(ts("2026-11-25T13:00:00.1234567890Z"), -1);
	CHECK_INT(ts("2026-11-25 13:00:00Z"), -1);
	CHECK_INT(ts("2026-11-25T13:00:00Zjunk"), -1);
}

TEST(time_civil_round_trip)
{
	char buf[40];

	/* Every day across four centuries, through the formatter and back. */
	for (int64_t d = -200000; d < 200000; d += 7) {
		int64_t us = d * 86400 * TIME_US_PER_SEC + 3723123000LL;

		REQUIRE(time_format_rfc3339_ms(us, buf, sizeof(buf)) == 0);
		if (d >= -719162 && ts(buf) != us)
			test_fail(__FILE__, __LINE__, "%s did not round-trip", buf);
	}
}

/* The formatter without printf writes what printf did, for every kind of
 * year (before 0 and past 9999 it is printf) and millisecond. */
TEST(time_format_matches_printf)
{
	char got[40], want[40];
	struct time_civil c;
	int64_t step = 86400 * TIME_US_PER_SEC * 13 + 3601001LL * 997;

	for (int64_t us = -70000LL * 365 * 86400 * TIME_US_PER_SEC;
	     us < 250000LL * 365 * 86400 * TIME_US_PER_SEC; us += step * 101) {
		time_to_civil(us, &c);
		snprintf(want, sizeof(want), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", c.year, c.month,
		         c.day, c.hour, c.minute, c.second, c.micro / 1000);
		REQUIRE(time_format_rfc3339_ms(us, got, sizeof(got)) == 0);
		if (strcmp(got, want))
			test_fail(__FILE__, __LINE__, "%s, printf says %s", got, want);
	}
	CHECK_INT(time_format_rfc3339_ms(0, got, 24), TS_ETOOBIG);
	CHECK_INT(time_format_rfc3339_ms(0, got, 25), 0);
	CHECK_STR(got, "1970-01-01T00:00:00.000Z");
}

TEST(dbuf_ceiling)
{
	struct dbuf b;

	dbuf_init(&b, 8);
	CHECK_INT(dbuf_addstr(&b, "12345678"), 0);
	CHECK_INT(dbuf_addc(&b, '9'), TS_ETOOBIG);
	CHECK_INT(b.len, 8);
	CHECK_STR(dbuf_str(&b), "12345678");
	CHECK_INT(dbuf_addf(&b, "%d", 1), TS_ETOOBIG);
	dbuf_reset(&b);
	CHECK_INT(dbuf_add_json_str(&b, "a\""), 0);
	CHECK_STR(dbuf_str(&b), "\"a\\\"\"");
	dbuf_release(&b);
	dbuf_init(&b, 100);
	CHECK_INT(dbuf_add_json_str(&b, "\x01\n\\"), 0);
	CHECK_STR(dbuf_str(&b), "\"\\u0001\\n\\\\\"");
	dbuf_release(&b);
}

static const char *dump_value(struct ts_config *cfg, const char *key)
{
	static char line[512];
	struct dbuf out;
	const char *p;

	dbuf_init(&out, 1 << 20);
	config_dump(cfg, &out);
	snprintf(line, sizeof(line), "\n%s = ", key);
	p = strstr(dbuf_str(&out), line);
	line[0] = '\0';
	if (p) {
		p += strlen(key) + 4;
		snprintf(line, sizeof(line), "%.*s", (int)strcspn(p, "\n"), p);
	}
	dbuf_release(&out);
	return line;
}

TEST(config_defaults_and_precedence)
{
	char *env[] = {"TOPSONGS_KAFKA_TOPIC=env-topic", "PATH=/bin", NULL};
	struct ts_config cfg;
	struct ts_err err;
	char text[] = "TOPSONGS_KAFKA_TOPIC=file\nTOPSONGS_API_THREADS = 3\n";
	FILE *f = fmemopen(text, sizeof(text) - 1, "r");

	config_init(&cfg);
	CHECK_STR(cfg.kafka_topic, "plays");
	CHECK_STR(cfg.api_listen, "127.0.0.1:8080");
	REQUIRE(f);
	CHECK_INT(config_load_stream(&cfg, f, "t", &err), 0);
	fclose(f);
	CHECK_STR(cfg.kafka_topic, "file");
	CHECK_INT(cfg.api_threads, 3);
	CHECK_INT(config_load(&cfg, "/dev/null", env, &err), 0);
	CHECK_STR(cfg.kafka_topic, "env-topic");
	CHECK_INT(config_set(&cfg, "kafka-topic", "flag", "flag", &err), 0);
	CHECK_STR(cfg.kafka_topic, "flag");
	CHECK_STR(dump_value(&cfg, "kafka.topic"), "flag");
	config_release(&cfg);
}

TEST(config_errors)
{
	char *env[] = {"TOPSONGS_NO_SUCH=1", NULL};
	struct ts_config cfg;
	struct ts_err err;

	config_init(&cfg);
	CHECK_INT(config_set(&cfg, "api.threads", "x", "flag", &err), TS_EINVAL);
	CHECK(strstr(err.msg, "not an integer") != NULL);
	CHECK_INT(config_set(&cfg, "api.threads", "257", "flag", &err), TS_EINVAL);
	CHECK(strstr(err.msg, "out of range") != NULL);
	CHECK_INT(config_set(&cfg, "api.listen", "nocolon", "flag", &err), TS_EINVAL);
	CHECK_INT(config_set(&cfg, "regions", "NA ALL", "flag", &err), TS_EINVAL);
	CHECK_INT(config_set(&cfg, "regions", "na", "flag", &err), TS_EINVAL);
	CHECK_INT(config_set(&cfg, "regions", "NA,EU", "flag", &err), 0);
	CHECK(config_has_region(&cfg, "EU", 2));
	CHECK(!config_has_region(&cfg, "E", 1));
	CHECK_INT(config_set(&cfg, "regions", "NA, SA  EUROPEAN,EU", "flag", &err), 0);
	{
		char got[4][5];

		/* EUROPEAN does not fit a 5-byte slot; the list stops at max */
		CHECK_INT(config_regions(&cfg, got[0], sizeof(got[0]), 4), 3);
		CHECK_STR(got[0], "NA");
		CHECK_STR(got[1], "SA");
		CHECK_STR(got[2], "EU");
		CHECK_INT(config_regions(&cfg, got[0], sizeof(got[0]), 1), 1);
	}
	CHECK_INT(config_set(&cfg, "log.level", "loud", "flag", &err), TS_EINVAL);
	CHECK_INT(config_set(&cfg, "nope", "1", "flag", &err), TS_EINVAL);
	CHECK(strstr(err.msg, "unknown configuration key 'nope'") != NULL);
	CHECK_INT(config_load(&cfg, "/dev/null", env, &err), TS_EINVAL);
	CHECK_INT(config_load(&cfg, "/no/such/file.env", NULL, &err), TS_EIO);
	CHECK_STR(cfg.api_listen, "127.0.0.1:8080"); /* failures change nothing */
	config_release(&cfg);
}

/* A .env shared with docker compose: other tools' names are skipped, ours
 * are still checked. */
TEST(config_env_file_foreign_names)
{
	char ok[] = "POSTGRES_PASSWORD=x\nMINIO_ROOT_USER=u\nTOPSONGS_KAFKA_TOPIC=t\n";
	char typo[] = "POSTGRES_PASSWORD=x\nTOPSONGS_KAFKA_TOPC=t\n";
	char lower[] = "postgres_password=x\n";
	struct ts_config cfg;
	struct ts_err err;
	FILE *f;

	config_init(&cfg);
	f = fmemopen(ok, strlen(ok), "r");
	REQUIRE(f);
	CHECK_INT(config_load_stream(&cfg, f, "ok.env", &err), 0);
	fclose(f);
	CHECK_STR(cfg.kafka_topic, "t");
	f = fmemopen(typo, strlen(typo), "r");
	REQUIRE(f);
	CHECK_INT(config_load_stream(&cfg, f, "typo.env", &err), TS_EINVAL);
	fclose(f);
	CHECK(strstr(err.msg, "typo.env:2") != NULL);
	f = fmemopen(lower, strlen(lower), "r");
	REQUIRE(f);
	CHECK_INT(config_load_stream(&cfg, f, "lower.env", &err), TS_EINVAL);
	fclose(f);
	config_release(&cfg);
}

TEST(config_redaction)
{
	struct ts_config cfg;
	struct ts_err err;
	char out[256];

	config_redact_url("postgresql://u:pw@h:5/d", out, sizeof(out));
	CHECK_STR(out, "postgresql://u:<redacted>@h:5/d");
	config_redact_url("host=h password=pw user=u", out, sizeof(out));
	CHECK_STR(out, "host=h password=<redacted> user=u");
	config_redact_url("postgresql://u@h/d", out, sizeof(out));
	CHECK_STR(out, "postgresql://u@h/d");
	config_redact_url("postgresql://u@h/d?sslmode=require&password=pw&x=1", out, sizeof(out));
	CHECK_STR(out, "postgresql://u@h/d?sslmode=require&password=<redacted>&x=1");
	config_redact_url("host=h password = 'a b\\' c' user=u", out, sizeof(out));
	CHECK_STR(out, "host=h password=<redacted> user=u");
	config_redact_url("passwordless=1", out, sizeof(out));
	CHECK_STR(out, "passwordless=1");
	config_init(&cfg);
	CHECK_INT(config_set(&cfg, "kafka.sasl-password", "topsecret", "flag", &err), 0);
	CHECK_STR(dump_value(&cfg, "kafka.sasl-password"), "<redacted>");
	config_release(&cfg);
}

/* A folder chain is made whole, again without complaint, and a file in the
 * way (above or at its end) is an error that names it. (That each new folder is synced
 * into its parent cannot be seen from here: strace shows the fsyncs.) */
TEST(fs_mkdirs_chain)
{
	char root[] = "/tmp/ts-mkdirs-XXXXXX", path[256], file[256];
	struct stat st;
	struct ts_err err;
	FILE *f;

	REQUIRE(mkdtemp(root));
	snprintf(path, sizeof(path), "%s/a/b/c", root);
	CHECK_INT(fs_mkdirs(path, &err), 0);
	CHECK(stat(path, &st) == 0 && S_ISDIR(st.st_mode));
	CHECK_INT(fs_mkdirs(path, &err), 0);
	snprintf(file, sizeof(file), "%s/a/b/c/d.parquet", root);
	CHECK_INT(fs_mkdirs_for(file, &err), 0);
	CHECK_INT(fs_sync_dir_of(file, &err), 0);
	CHECK_INT(fs_sync_dir_of("/tmp", &err), 0); /* the root folder */

	snprintf(file, sizeof(file), "%s/a/x", root);
	REQUIRE((f = fopen(file, "w")));
	fclose(f);
	snprintf(path, sizeof(path), "%s/a/x/y", root);
	CHECK_INT(fs_mkdirs(path, &err), TS_EIO);
	CHECK(strstr(err.msg, file) != NULL);
	CHECK_INT(fs_mkdirs(file, &err), TS_EIO); /* the last folder is a file */
	CHECK(strstr(err.msg, "in the way") != NULL);
	CHECK_INT(fs_remove_tree(root, &err), 0);
	CHECK(!fs_exists(root));
}
