/*
 * `topsongs scheduler`: runs the flows of flow_table on their schedules
 * until SIGTERM/SIGINT (sched/sched.h, docs/scheduler.md).
 */
#include "base/common.h"
#include "base/log.h"
#include "cli/commands.h"
#include "db/db.h"
#include "flow/flow.h"
#include "sched/sched.h"

#include <unistd.h>

const char cmd_scheduler_details[] =
    "Each flow runs on its schedule (its default, or scheduler.schedules:\n"
    "'enrich=every 5s;aggregate=cron */5 * * * * Europe/Paris'). A run that fails\n"
    "with a temporary error is retried with exponential backoff and jitter; an\n"
    "advisory lock per flow keeps several schedulers (on several machines) from\n"
    "running the same flow at once; a run whose lease expired (its process died)\n"
    "is marked abandoned and run again; fires missed while no scheduler ran are\n"
    "caught up (scheduler.catch-up). The scheduler beats into PostgreSQL, which\n"
    "`topsongs check` reads. SIGTERM or SIGINT lets runs going on finish (up to\n"
    "scheduler.stop-timeout-ms), then exits 0. See docs/scheduler.md.";

/* Applies the migrations; the scheduler's tables come with them. */
int cmd_scheduler_migrate(const struct ts_config *cfg, struct ts_err *err)
{
	struct db *db = NULL;
	int applied, rc;

	rc = db_connect(cfg, 5000, &db, err);
	rc = rc ? rc : db_migrate(db, &applied, err);
	db_free(db);
	return rc;
}

int cmd_scheduler(struct cli_ctx *ctx)
{
	struct sched_stats st;
	struct ts_err err;
	int rc, status;

	cli_install_signals();
	rc = cmd_scheduler_migrate(&ctx->cfg, &err);
	if (!rc)
		rc = sched_main(&ctx->cfg, flow_table, flow_count, &cli_stop_requested, &st, &err);
	else
		memset(&st, 0, sizeof(st));
	log_info("scheduler stopped",
	         "runs=%lld succeeded=%lld failed=%lld retries=%lld busy=%lld "
	         "already_done=%lld abandoned_found=%lld left_running=%d",
	         (long long)st.runs, (long long)st.succeeded, (long long)st.failed,
	         (long long)st.retries, (long long)st.busy, (long long)st.skipped_done,
	         (long long)st.abandoned_found, st.left_running);
	status = EXIT_OK;
	if (rc) {
		cli_error(ctx, "%s", err.msg);
		status = rc == TS_EINVAL     ? EXIT_USAGE
		         : rc == TS_EUNAVAIL ? EXIT_UNAVAILABLE
		                             : EXIT_FAILURE_;
	}
	if (st.left_running) {
		/* Worker threads still run flows that read the configuration:
		 * leave without releasing it. Their rows are marked abandoned. */
		fflush(NULL);
		_exit(status);
	}
	return status;
}
