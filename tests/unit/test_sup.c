/* The supervisor: back-off, oneshot completion, restart of a failing child,
 * and an orderly stop. Real child processes (/bin/sh), no fakes. */
#include "base/common.h"
#include "sup/sup.h"
#include "test.h"

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

TEST(sup_backoff_doubles_to_a_cap)
{
	CHECK_INT(sup_backoff_ms(1), 500);
	CHECK_INT(sup_backoff_ms(2), 1000);
	CHECK_INT(sup_backoff_ms(3), 2000);
	CHECK_INT(sup_backoff_ms(7), 30000);
	CHECK_INT(sup_backoff_ms(1000), 30000);
}

struct events {
	int started, exited, restarting, done, stopped;
};

static void count(enum sup_event ev, const char *name, pid_t pid, int status, void *arg)
{
	struct events *e = arg;

	(void)name;
	(void)pid;
	(void)status;
	e->started += ev == SUP_STARTED;
	e->exited += ev == SUP_EXITED;
	e->restarting += ev == SUP_RESTARTING;
	e->done += ev == SUP_DONE;
	e->stopped += ev == SUP_STOPPED;
}

TEST(sup_runs_restarts_and_stops)
{
	char dir[] = "/tmp/test_sup.XXXXXX";
	struct sup_spec ok = {
	    .name = "ok", .argv = {"/bin/sh", "-c", "echo hi", NULL}, .oneshot = true};
	struct sup_spec bad = {.name = "bad", .argv = {"/bin/sh", "-c", "exit 3", NULL}};
	struct sup_spec slow = {.name = "slow", .argv = {"/bin/sh", "-c", "exec sleep 60", NULL}};
	struct events e = {0};
	struct sup *s = NULL;
	struct ts_err err;
	int running = 0;
	pid_t slow_pid;

	REQUIRE(mkdtemp(dir));
	REQUIRE(sup_new(dir, count, &e, &s, &err) == 0);
	REQUIRE(sup_start(s, &ok, &err) == 0);
	REQUIRE(sup_start(s, &bad, &err) == 0);
	REQUIRE(sup_start(s, &slow, &err) == 0);
	slow_pid = sup_pid(s, "slow");
	CHECK(slow_pid > 0);
	/* "bad" fails at once, again after 0.5 s, again after 1 s: about 1.5 s,
	 * but a loaded machine may take longer to start three shells, so the
	 * wait ends on the events, within 30 s. */
	for (int i = 0; i < 300 && !(sup_done(s, "ok") && e.restarting >= 2 && e.started >= 5); i++)
		REQUIRE(sup_poll(s, 100, &running, &err) == 0);
	CHECK(sup_done(s, "ok"));
	CHECK(!sup_done(s, "bad"));
	CHECK(e.restarting >= 2);
	CHECK(e.started >= 5); /* ok, bad x3, slow */
	CHECK_INT(sup_pid(s, "slow"), slow_pid);
	sup_stop_all(s, 2000);
	CHECK(kill(slow_pid, 0) != 0); /* gone, and reaped */
	CHECK_INT(sup_pid(s, "slow"), 0);
	CHECK(e.stopped >= 1);
	sup_free(s);
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK_INT(system(cmd), 0);
}
