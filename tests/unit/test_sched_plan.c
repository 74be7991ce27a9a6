/*
 * The scheduler's decisions without a database, on test flows passed in
 * (the seam of sched.h): schedules from defaults and scheduler.schedules,
 * catch-up policies, coalesced fires, retries with backoff bounds, and the
 * exit statuses of `flows run`.
 */
#include "base/timeutil.h"
#include "sched/sched.h"
#include "tests/unit/test.h"

static int run_ok(struct db *db, const struct flow_args *a, struct flow_stats *st,
                  struct ts_err *err)
{
	(void)db, (void)a, (void)st, (void)err;
	return 0;
}

static const struct flow_def test_flows[] = {
    {"alpha", "first", "every 10s", run_ok, NULL},
    {"beta", "second", "cron 0 * * * *", run_ok, "alpha"},
    {"gamma", "third", NULL, run_ok, "alpha"},
};

#define T0  (1764064800LL * TIME_US_PER_SEC) /* 2025-11-25T10:00:00Z */
#define SEC TIME_US_PER_SEC

TEST(sched_slots_defaults_and_overrides)
{
	struct sched_slot s[3];
	struct ts_err err;

	REQUIRE(!sched_slots_init(s, test_flows, 3, "", &err));
	CHECK_STR(s[0].schedule_text, "every 10s");
	CHECK_STR(s[1].schedule_text, "cron 0 * * * *");
	CHECK_STR(s[2].schedule_text, "off");
	CHECK_INT(s[2].schedule.kind, SCHED_OFF);
	REQUIRE(!sched_slots_init(s, test_flows, 3,
	                          " beta = every 1m ; alpha=cron */5 * * * * Europe/Paris;", &err));
	CHECK_STR(s[0].schedule_text, "cron */5 * * * * Europe/Paris");
	CHECK_STR(s[1].schedule_text, "every 1m");
	CHECK_INT(s[1].schedule.every_us, 60 * SEC);
	CHECK_INT(sched_slots_init(s, test_flows, 3, "delta=every 1s", &err), TS_EINVAL);
	CHECK(strstr(err.msg, "delta") != NULL);
	CHECK_INT(sched_slots_init(s, test_flows, 3, "alpha", &err), TS_EINVAL);
	CHECK_INT(sched_slots_init(s, test_flows, 3, "alpha=every 0s", &err), TS_EINVAL);
	CHECK(strstr(err.msg, "alpha") != NULL);
}

TEST(sched_slot_fires_and_coalesces)
{
	struct sched_slot s[3];
	struct sched_worker *busy = (struct sched_worker *)&s[1]; /* any non-NULL */

	REQUIRE(!sched_slots_init(s, test_flows, 3, "", NULL));
	CHECK_INT(sched_slot_catch_up(&s[0], "skip", 10, 0, T0 + 1), 0);
	CHECK_INT(s[0].next_fire_us, T0 + 10 * SEC);
	CHECK(!s[0].pending);
	sched_slot_tick(&s[0], T0 + 5 * SEC);
	CHECK(!s[0].pending);
	sched_slot_tick(&s[0], T0 + 10 * SEC + 3000);
	CHECK(s[0].pending);
	CHECK_STR(s[0].trigger, "schedule");
	CHECK_INT(s[0].attempt, 1);
	CHECK_INT(s[0].done_since_us, T0 + 10 * SEC);
	CHECK_INT(s[0].next_fire_us, T0 + 20 * SEC);
	/* a fire while a run goes on is coalesced into it */
	s[0].pending = 0;
	s[0].worker = busy;
	sched_slot_tick(&s[0], T0 + 20 * SEC);
	CHECK(!s[0].pending);
	CHECK_INT(s[0].next_fire_us, T0 + 30 * SEC);
	/* the scheduler was busy for long: one fire, not one per missed fire */
	s[0].worker = NULL;
	sched_slot_tick(&s[0], T0 + 95 * SEC);
	CHECK(s[0].pending);
	CHECK_INT(s[0].next_fire_us, T0 + 100 * SEC);
	/* off never fires */
	CHECK_INT(sched_slot_catch_up(&s[2], "all", 10, T0 - 3600 * SEC, T0), 0);
	CHECK_INT(s[2].next_fire_us, 0);
	sched_slot_tick(&s[2], T0 + 1000 * SEC);
	CHECK(!s[2].pending);
}

TEST(sched_slot_catch_up_policies)
{
	struct sched_slot s[3];

	REQUIRE(!sched_slots_init(s, test_flows, 3, "", NULL));
	/* beta fires hourly; last run 10:00:05, now 13:30: 11, 12, 13 missed */
	CHECK_INT(sched_slot_catch_up(&s[1], "skip", 10, T0 + 5 * SEC, T0 + 210 * 60 * SEC), 3);
	CHECK(s[1].pending);
	CHECK_STR(s[1].trigger, "catch-up");
	CHECK_INT(s[1].due_us, T0 + 210 * 60 * SEC);
	CHECK_INT(s[1].done_since_us, T0 + 3 * 3600 * SEC); /* the latest missed fire */
	CHECK_INT(s[1].catch_up_left, 0);
	CHECK_INT(s[1].next_fire_us, T0 + 4 * 3600 * SEC);

	REQUIRE(!sched_slots_init(s, test_flows, 3, "", NULL));
	CHECK_INT(sched_slot_catch_up(&s[1], "none", 10, T0 + 5 * SEC, T0 + 210 * 60 * SEC), 3);
	CHECK(!s[1].pending);

	REQUIRE(!sched_slots_init(s, test_flows, 3, "", NULL));
	CHECK_INT(sched_slot_catch_up(&s[1], "all", 2, T0 + 5 * SEC, T0 + 210 * 60 * SEC), 2);
	CHECK(s[1].pending);
	CHECK_INT(s[1].catch_up_left, 1);
	CHECK_INT(s[1].done_since_us, 0);

	/* nothing missed: nothing to do */
	REQUIRE(!sched_slots_init(s, test_flows, 3, "", NULL));
	CHECK_INT(sched_slot_catch_up(&s[1], "skip", 10, T0 + 5 * SEC, T0 + 50 * 60 * SEC), 0);
	CHECK(!s[1].pending);
}

static struct ts_config test_cfg(void)
{
	struct ts_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.scheduler_max_attempts = 3;
	cfg.scheduler_retry_base_ms = 100;
	cfg.scheduler_retry_max_ms = 1000;
	return cfg;
}

TEST(sched_slot_retries)
{
	struct ts_config cfg = test_cfg();
	struct sched_run_result res = {.outcome = SCHED_RUN_FAILED, .code = TS_EUNAVAIL};
	struct sched_slot s[3];
	uint64_t rng = 42;

	REQUIRE(!sched_slots_init(s, test_flows, 3, "", NULL));
	s[0].attempt = 1;
	CHECK_INT(sched_slot_finished(&s[0], &cfg, 0, &res, T0, &rng), 1);
	CHECK(s[0].pending);
	CHECK_STR(s[0].trigger, "retry");
	CHECK_INT(s[0].attempt, 2);
	CHECK(s[0].due_us >= T0 && s[0].due_us <= T0 + 100 * 1000);
	CHECK_INT(sched_slot_finished(&s[0], &cfg, 0, &res, T0, &rng), 1);
	CHECK_INT(s[0].attempt, 3);
	CHECK(s[0].due_us >= T0 && s[0].due_us <= T0 + 200 * 1000);
	/* the third attempt was the last */
	CHECK_INT(sched_slot_finished(&s[0], &cfg, 0, &res, T0, &rng), 0);
	CHECK(!s[0].pending);
	/* a lost database (sched_run's own rc) is retried too */
	s[0].attempt = 1;
	CHECK_INT(sched_slot_finished(&s[0], &cfg, TS_EUNAVAIL, &res, T0, &rng), 1);
	/* timeouts too; permanent failures, successes and busy locks are not */
	s[0].attempt = 1;
	res.code = TS_ETIMEDOUT;
	CHECK_INT(sched_slot_finished(&s[0], &cfg, 0, &res, T0, &rng), 1);
	s[0].attempt = 1;
	res.code = TS_EFAILED;
	CHECK_INT(sched_slot_finished(&s[0], &cfg, 0, &res, T0, &rng), 0);
	res.code = TS_ECORRUPT;
	CHECK_INT(sched_slot_finished(&s[0], &cfg, 0, &res, T0, &rng), 0);
	res.outcome = SCHED_RUN_SUCCEEDED;
	res.code = 0;
	CHECK_INT(sched_slot_finished(&s[0], &cfg, 0, &res, T0, &rng), 0);
	res.outcome = SCHED_RUN_BUSY;
	CHECK_INT(sched_slot_finished(&s[0], &cfg, 0, &res, T0, &rng), 0);
	CHECK(!s[0].pending);
	/* the next catch-up run follows a finished one */
	s[0].catch_up_left = 1;
	res.outcome = SCHED_RUN_SUCCEEDED;
	sched_slot_finished(&s[0], &cfg, 0, &res, T0, &rng);
	CHECK(s[0].pending);
	CHECK_STR(s[0].trigger, "catch-up");
	CHECK_INT(s[0].catch_up_left, 0);
	/* an abandoned run is run again, as the next attempt */
	s[0].pending = 0;
	sched_slot_rerun(&s[0], 2, T0);
	CHECK(s[0].pending);
	CHECK_STR(s[0].trigger, "retry");
	CHECK_INT(s[0].attempt, 3);
}

/* beta follows alpha: a run of alpha that wrote rows plans beta at once,
 * or right after beta's run going on; never over a planned run or an "off"
 * schedule (gamma). */
TEST(sched_slot_follows)
{
	struct ts_config cfg = test_cfg();
	struct sched_run_result ok = {.outcome = SCHED_RUN_SUCCEEDED};
	struct sched_run_result down = {.outcome = SCHED_RUN_FAILED, .code = TS_EUNAVAIL};
	struct sched_worker *busy = (struct sched_worker *)&cfg; /* any non-NULL */
	struct sched_slot s[3];
	uint64_t rng = 42;

	REQUIRE(!sched_slots_init(s, test_flows, 3, "", NULL));
	sched_slot_follow(&s[1], T0);
	CHECK(s[1].pending);
	CHECK_STR(s[1].trigger, "after");
	CHECK_INT(s[1].due_us, T0);
	CHECK_INT(s[1].done_since_us, 0);
	sched_slot_follow(&s[2], T0);
	CHECK(!s[2].pending);

	/* beta is running: it runs again when it ends */
	s[1].pending = 0;
	s[1].worker = busy;
	sched_slot_follow(&s[1], T0);
	CHECK(!s[1].pending);
	s[1].worker = NULL;
	s[1].attempt = 1;
	CHECK_INT(sched_slot_finished(&s[1], &cfg, 0, &ok, T0 + SEC, &rng), 0);
	CHECK(s[1].pending);
	CHECK_STR(s[1].trigger, "after");
	CHECK_INT(s[1].due_us, T0 + SEC);
	CHECK_INT(sched_slot_finished(&s[1], &cfg, 0, &ok, T0 + 2 * SEC, &rng), 0);
	CHECK(!s[1].pending); /* once */

	/* a retry planned stays as it is */
	s[1].worker = busy;
	sched_slot_follow(&s[1], T0);
	s[1].worker = NULL;
	s[1].attempt = 1;
	CHECK_INT(sched_slot_finished(&s[1], &cfg, 0, &down, T0, &rng), 1);
	CHECK_STR(s[1].trigger, "retry");
	sched_slot_follow(&s[1], T0);
	CHECK_STR(s[1].trigger, "retry");
	CHECK_INT(s[1].attempt, 2);
}

TEST(sched_backoff_bounds)
{
	uint64_t rng = 7;
	int64_t max_seen[8] = {0}, min_seen[8];

	for (int r = 1; r < 8; r++)
		min_seen[r] = INT64_MAX;
	for (int i = 0; i < 20000; i++) {
		for (int r = 1; r < 8; r++) {
			int64_t ceiling = 100LL << (r - 1),
			        d = sched_backoff_ms(r, 100, 1000, &rng);

			if (ceiling > 1000)
				ceiling = 1000;
			if (d < 0 || d > ceiling)
				test_fail(__FILE__, __LINE__, "retry %d: %lld ms outside [0, %lld]",
				          r, (long long)d, (long long)ceiling);
			if (d > max_seen[r])
				max_seen[r] = d;
			if (d < min_seen[r])
				min_seen[r] = d;
		}
	}
	/* full jitter: the whole range is used, near 0 and near the ceiling */
	CHECK(max_seen[1] >= 95 && min_seen[1] <= 5);
	CHECK(max_seen[3] >= 390 && min_seen[3] <= 10);
	CHECK(max_seen[7] >= 990 && min_seen[7] <= 10);
	/* huge attempt numbers neither overflow nor pass the cap */
	CHECK(sched_backoff_ms(1000, 100, 1000, &rng) <= 1000);
	CHECK(sched_backoff_ms(62, 1, 86400000, &rng) <= 86400000);
}

TEST(sched_exit_statuses)
{
	struct sched_run_result res = {0};

	res.outcome = SCHED_RUN_SUCCEEDED;
	CHECK_INT(sched_exit_status(0, &res), 0);
	res.outcome = SCHED_RUN_DONE;
	CHECK_INT(sched_exit_status(0, &res), 0);
	res.outcome = SCHED_RUN_BUSY;
	CHECK_INT(sched_exit_status(0, &res), 99);
	res.outcome = SCHED_RUN_FAILED;
	res.code = TS_EFAILED;
	CHECK_INT(sched_exit_status(0, &res), 1);
	res.code = TS_ECORRUPT;
	CHECK_INT(sched_exit_status(0, &res), 1);
	res.code = TS_EUNAVAIL;
	CHECK_INT(sched_exit_status(0, &res), 75);
	res.code = TS_ETIMEDOUT;
	CHECK_INT(sched_exit_status(0, &res), 75);
	/* the bookkeeping itself failed: database unreachable, bad input */
	CHECK_INT(sched_exit_status(TS_EUNAVAIL, &res), 75);
	CHECK_INT(sched_exit_status(TS_EINVAL, &res), 2);
	CHECK_INT(sched_exit_status(TS_EFAILED, &res), 1);
}

TEST(sched_scope_text)
{
	struct flow_args a = {0};
	char scope[SCHED_SCOPE_MAX];

	sched_runs_scope(&a, scope, sizeof(scope));
	CHECK_STR(scope, "*");
	a.region = "EU";
	sched_runs_scope(&a, scope, sizeof(scope));
	CHECK_STR(scope, "region=EU from=- to=-");
	a.region = NULL;
	a.from_us = T0;
	a.to_us = T0 + 3600 * SEC;
	sched_runs_scope(&a, scope, sizeof(scope));
	CHECK_STR(scope, "region=* from=2025-11-25T10:00:00.000Z to=2025-11-25T11:00:00.000Z");
}
