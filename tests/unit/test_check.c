/*
 * Unit tests of check/check: the required-list parser and the concurrent
 * runner, driven by fake probes (no services needed).
 */
#include "tests/unit/test.h"

#include "base/config.h"
#include "base/error.h"
#include "base/timeutil.h"
#include "check/check.h"

#include <time.h>

static void sleep_ms(int64_t ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts))
		;
}

static int probe_ok_slow(const struct ts_config *cfg, int64_t timeout_ms, struct check_result *out)
{
	(void)cfg;
	(void)timeout_ms;
	sleep_ms(300);
	check_result_target(out, "fake");
	return check_result_ok(out, "fine");
}

static int probe_fail(const struct ts_config *cfg, int64_t timeout_ms, struct check_result *out)
{
	(void)cfg;
	(void)timeout_ms;
	return check_result_fail(out, TS_EUNAVAIL, "connection refused at 127.0.0.1:1");
}

static int probe_stuck(const struct ts_config *cfg, int64_t timeout_ms, struct check_result *out)
{
	/* Ignores its deadline, and reads cfg after the runner has returned. */
	sleep_ms(timeout_ms + 1500);
	return check_result_ok(out, "%s", cfg->kafka_topic);
}

static const struct check_probe fakes[] = {
    {"a", probe_ok_slow, NULL}, {"b", probe_ok_slow, NULL},   {"c", probe_ok_slow, NULL},
    {"bad", probe_fail, NULL},  {"stuck", probe_stuck, NULL},
};

TEST(check_required_parse_names)
{
	uint32_t mask = 0;
	struct ts_err err;

	CHECK_INT(
	    check_required_parse("postgres,kafka,lake", check_probes, check_nprobes, &mask, &err),
	    0);
	CHECK_INT(mask, 0x7);
	CHECK_INT(
	    check_required_parse(" api , scheduler,,", check_probes, check_nprobes, &mask, &err),
	    0);
	CHECK_INT(mask, 0x18);
	CHECK_INT(check_required_parse("", check_probes, check_nprobes, &mask, &err), 0);
	CHECK_INT(mask, 0);
	CHECK_INT(check_required_parse("postgres,redis", check_probes, check_nprobes, &mask, &err),
	          TS_EINVAL);
	CHECK(strstr(err.msg, "'redis'") != NULL);
	CHECK_INT(check_required_parse("post", check_probes, check_nprobes, &mask, &err),
	          TS_EINVAL);
}

TEST(check_table_matches_config_validator)
{
	struct ts_config cfg;
	uint32_t mask;

	config_init(&cfg);
	/* Every name config.c accepts for check.required is a probe here. */
	REQUIRE(config_set(&cfg, "check.required", "postgres,kafka,lake,api,scheduler", "test",
	                   NULL) == 0);
	CHECK_INT(
	    check_required_parse(cfg.check_required, check_probes, check_nprobes, &mask, NULL), 0);
	CHECK_INT(mask, 0x1f);
	config_release(&cfg);
}

TEST(check_run_probes_concurrently)
{
	struct check_result res[3];
	struct ts_config cfg;
	int64_t t0;

	config_init(&cfg);
	t0 = time_mono_us();
	CHECK_INT(check_run_probes(&cfg, fakes, 3, 0x7, 2000, res, NULL), 0);
	/* Three 300 ms probes in parallel, not 900 ms in a row. */
	CHECK(time_mono_us() - t0 < 700 * 1000);
	for (int i = 0; i < 3; i++) {
		CHECK_STR(res[i].name, fakes[i].name);
		CHECK_INT(res[i].required, 1);
		CHECK_INT(res[i].status, CHECK_OK);
		CHECK(res[i].latency_us >= 290 * 1000);
		CHECK_STR(res[i].target, "fake");
	}
	config_release(&cfg);
}

TEST(check_run_required_failure_decides)
{
	struct check_result res[4];
	struct ts_config cfg;

	config_init(&cfg);
	/* "bad" (index 3) not required: ok overall. */
	CHECK_INT(check_run_probes(&cfg, fakes, 4, 0x1, 1000, res, NULL), 0);
	CHECK_INT(res[3].status, CHECK_FAILED);
	CHECK_INT(res[3].required, 0);
	CHECK_INT(check_run_probes(&cfg, fakes, 4, 0x9, 1000, res, NULL), TS_EUNAVAIL);
	CHECK_STR(res[3].reason, "connection refused at 127.0.0.1:1");
	config_release(&cfg);
}

TEST(check_run_stuck_probe_bounded_by_deadline)
{
	struct check_result res[5];
	struct ts_config cfg;
	int64_t t0;

	config_init(&cfg);
	t0 = time_mono_us();
	CHECK_INT(check_run_probes(&cfg, fakes, 5, 0x10, 200, res, NULL), TS_EUNAVAIL);
	CHECK(time_mono_us() - t0 < (200 + CHECK_GRACE_MS + 300) * 1000);
	CHECK_INT(res[4].status, CHECK_FAILED);
	CHECK(strstr(res[4].reason, "no answer within 200 ms") != NULL);
	CHECK_INT(res[0].status, CHECK_OK);
	/* The stuck probe still runs on its own copy of cfg: releasing ours is safe. */
	config_release(&cfg);
}

TEST(check_all_required_ok_counts_only_required)
{
	struct check_result res[2];

	memset(res, 0, sizeof(res));
	res[0].required = 1;
	res[1].status = CHECK_NOT_RUNNING;
	CHECK(check_all_required_ok(res, 2));
	res[1].required = 1;
	CHECK(!check_all_required_ok(res, 2));
	CHECK(check_all_required_ok(res, 0));
}
