/*
 * Unit tests of check/check_pg that need no server: libpq message
 * condensing, password extraction and redaction, and the probe against a
 * closed port.
 */
#include "tests/unit/test.h"

#include "base/config.h"
#include "base/error.h"
#include "base/timeutil.h"
#include "check/check_pg.h"

static void condense(const char *msg, const char *want)
{
	char out[CHECK_TEXT_MAX];

	check_pg_condense(msg, out, sizeof(out));
	CHECK_STR(out, want);
}

TEST(check_pg_condense_refused)
{
	condense("connection to server at \"127.0.0.1\", port 1 failed: Connection refused\n"
	         "\tIs the server running on that host and accepting TCP/IP connections?\n",
	         "connection refused at 127.0.0.1:1");
}

TEST(check_pg_condense_password)
{
	condense("connection to server at \"db\" (10.0.0.5), port 5432 failed: FATAL:  password "
	         "authentication failed for user \"u\"\n",
	         "password authentication failed for user \"u\" at db:5432 (10.0.0.5)");
}

TEST(check_pg_condense_several_addresses)
{
	condense(
	    "connection to server at \"localhost\" (::1), port 1 failed: Connection refused\n"
	    "\tIs the server running on that host and accepting TCP/IP connections?\n"
	    "connection to server at \"localhost\" (127.0.0.1), port 1 failed: Connection "
	    "refused\n\tIs the server running on that host and accepting TCP/IP connections?\n",
	    "connection refused at localhost:1 (::1) (and 1 more address failed)");
}

TEST(check_pg_condense_socket_and_other)
{
	condense("connection to server on socket \"/tmp/.s.PGSQL.5432\" failed: No such file or "
	         "directory\n\tIs the server running locally?\n",
	         "no such file or directory at socket /tmp/.s.PGSQL.5432");
	condense("could not translate host name \"nohost\" to address: Name or service not known\n",
	         "could not translate host name \"nohost\" to address: Name or service not known");
	condense("ERROR:  relation \"x\" does not exist\nLINE 1: SELECT * FROM x\n",
	         "relation \"x\" does not exist");
	condense("", "");
}

TEST(check_pg_secret_from_url_and_conninfo)
{
	struct check_result r;
	char *secret = NULL;

	memset(&r, 0, sizeof(r));
	REQUIRE(check_pg_secret("postgresql://u:s3cr3tpw@127.0.0.1:1/x", &secret, &r) == 0);
	CHECK_STR(secret, "s3cr3tpw");
	check_pg_secret_free(secret);
	REQUIRE(check_pg_secret("postgresql://u@h/x?password=qpw", &secret, &r) == 0);
	CHECK_STR(secret, "qpw");
	check_pg_secret_free(secret);
	REQUIRE(check_pg_secret("host=h password='a b' dbname=x", &secret, &r) == 0);
	CHECK_STR(secret, "a b");
	check_pg_secret_free(secret);
	REQUIRE(check_pg_secret("postgresql://u@h/x", &secret, &r) == 0);
	CHECK(secret == NULL);
}

TEST(check_pg_secret_bad_url_quotes_nothing)
{
	struct check_result r;
	char *secret = NULL;

	memset(&r, 0, sizeof(r));
	CHECK_INT(check_pg_secret("postgresql://u:pa%zzsecret@h/x", &secret, &r), TS_EINVAL);
	CHECK(secret == NULL);
	CHECK_INT(r.status, CHECK_FAILED);
	CHECK(!strstr(r.reason, "secret"));
	CHECK(!strncmp(r.reason, "pg.url cannot be parsed: ", 25));
}

TEST(check_pg_target_redacts_every_form)
{
	struct check_result r;

	check_pg_target("postgresql://u:s3cr3tpw@127.0.0.1:1/x", "s3cr3tpw", &r);
	CHECK_STR(r.target, "postgresql://u:<redacted>@127.0.0.1:1/x");
	check_pg_target("postgresql://u@h/x?password=qpw", "qpw", &r);
	CHECK(!strstr(r.target, "qpw"));
	check_pg_target("host=h password=pw9 dbname=x", "pw9", &r);
	CHECK(!strstr(r.target, "pw9"));
	/* Unparsable, so no secret known: the query parameter is still masked. */
	check_pg_target("postgresql://[::1:5432/x?password=abc&sslmode=off", NULL, &r);
	CHECK_STR(r.target, "postgresql://[::1:5432/x?password=<redacted>&sslmode=off");
	check_pg_target("host=h password='a b\\' c' dbname=x", NULL, &r);
	CHECK_STR(r.target, "host=h password=<redacted> dbname=x");
}

TEST(check_pg_secret_elides_short_and_unclosed_quotes)
{
	struct check_result r;
	char *secret = NULL;

	memset(&r, 0, sizeof(r));
	/* A one-letter quoted piece: the replacement is longer than the input. */
	CHECK_INT(check_pg_secret("host=a b", &secret, &r), TS_EINVAL);
	CHECK_STR(r.reason, "pg.url cannot be parsed: missing \"=\" after \"...\" in connection "
	                    "info string");
}

TEST(check_pg_secret_unparsable_url_never_echoed)
{
	struct check_result r;
	char *secret = NULL;

	memset(&r, 0, sizeof(r));
	CHECK_INT(check_pg_secret("postgresql://[::1:5432/x?password=abc", &secret, &r), TS_EINVAL);
	CHECK(!strstr(r.reason, "abc"));
	CHECK(strstr(r.reason, "matching \"]\"") != NULL);
}

TEST(check_pg_probe_closed_port_fails_fast_without_password)
{
	struct ts_config cfg;
	struct check_result r;
	int64_t t0 = time_mono_us();

	config_init(&cfg);
	REQUIRE(config_set(&cfg, "pg.url", "postgresql://u:s3cr3tpw@127.0.0.1:1/x", "test", NULL) ==
	        0);
	memset(&r, 0, sizeof(r));
	CHECK(check_pg_probe(&cfg, 2000, &r) < 0);
	CHECK(time_mono_us() - t0 < 1500 * 1000);
	CHECK_INT(r.status, CHECK_FAILED);
	CHECK_STR(r.reason, "connection refused at 127.0.0.1:1");
	CHECK(!strstr(r.target, "s3cr3tpw"));
	config_release(&cfg);
}
