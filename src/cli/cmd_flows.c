/*
 * `topsongs flows list|run|runs`: the flow table, one run of a flow (for
 * back-fills and outside orchestrators: cron, Airflow, Prefect), and the run
 * history. The exit statuses of `flows run` are a contract
 * (docs/scheduler.md): 0 succeeded, 1 failed, 2 usage, 75 temporary failure
 * (retry later), 99 another run of the flow and scope holds the lock.
 */
#include "base/common.h"
#include "base/progress.h"
#include "base/dbuf.h"
#include "base/timeutil.h"
#include "cli/commands.h"
#include "db/db.h"
#include "flow/flow.h"
#include "sched/sched.h"

#include <unistd.h>

const struct cli_opt cmd_flows_opts[] = {
    {"from", "TIME", "run: only event time from TIME (RFC 3339), for back-fills"},
    {"to", "TIME", "run: only event time before TIME (RFC 3339)"},
    {"region", "R", "run: only region R"},
    {"limit", "N", "runs: the N newest runs (default 20)"},
    {"flow", "NAME", "runs: only the runs of flow NAME"},
    {"json", NULL, "runs: one JSON object per line instead of a table"},
    {NULL, NULL, NULL},
};

const char cmd_flows_details[] =
    "list              the flows, their schedules and what they do\n"
    "run NAME          runs flow NAME once, now, under the same lock as the\n"
    "                  scheduler's runs, and records it in the run history\n"
    "                  (trigger 'manual'). Exit status: 0 succeeded, 1 failed,\n"
    "                  2 usage, 75 temporary failure (database or lake down:\n"
    "                  retry later), 99 another run of the same flow and scope\n"
    "                  holds the lock (nothing was done).\n"
    "runs              the run history, newest first: id, flow, scope, trigger,\n"
    "                  state, attempt, start, duration, rows in and out, error.";

static int parse_time(const struct cli_ctx *ctx, const char *name, int64_t *out)
{
	const char *v = cli_opt(ctx, name), *why = NULL;

	*out = 0;
	if (!v)
		return 0;
	if (time_parse_rfc3339(v, strlen(v), out, &why)) {
		cli_error(ctx, "--%s '%s': %s", name, v, why ? why : "not an RFC 3339 time");
		return TS_EINVAL;
	}
	return 0;
}

static int list_flows(struct cli_ctx *ctx)
{
	struct sched_slot slots[16];
	struct ts_err err;

	if (flow_count > ARRAY_SIZE(slots))
		BUG("more flows than list_flows can show");
	if (sched_slots_init(slots, flow_table, flow_count, ctx->cfg.scheduler_schedules, &err)) {
		cli_error(ctx, "%s", err.msg);
		return EXIT_USAGE;
	}
	printf("%-12s %-40s %s\n", "FLOW", "SCHEDULE", "WHAT IT DOES");
	for (size_t i = 0; i < flow_count; i++)
		printf("%-12s %-40s %s\n", flow_table[i].name, slots[i].schedule_text,
		       flow_table[i].summary);
	return EXIT_OK;
}

static int run_args(struct cli_ctx *ctx, const struct flow_def **flow, struct flow_args *a)
{

	*flow = ctx->args.npos > 1 ? flow_find(ctx->args.pos[1]) : NULL;
	if (!*flow) {
		cli_error(ctx, "flows run: %s '%s'; the flows are listed by `topsongs flows list`",
		          ctx->args.npos > 1 ? "no flow named" : "needs a flow name",
		          ctx->args.npos > 1 ? ctx->args.pos[1] : "");
		return TS_EINVAL;
	}
	memset(a, 0, sizeof(*a));
	a->cfg = &ctx->cfg;
	if (parse_time(ctx, "from", &a->from_us) || parse_time(ctx, "to", &a->to_us))
		return TS_EINVAL;
	if (a->from_us && a->to_us && a->from_us >= a->to_us) {
		cli_error(ctx, "--from must be before --to");
		return TS_EINVAL;
	}
	return cli_opt_region(ctx, &a->region);
}

static void report_run(struct cli_ctx *ctx, const struct sched_run_req *req, int rc,
                       const struct sched_run_result *res, const struct ts_err *err)
{
	if (rc) {
		cli_error(ctx, "%s (scope %s): %s", req->flow->name, req->scope, err->msg);
		return;
	}
	switch (res->outcome) {
	case SCHED_RUN_SUCCEEDED:
	case SCHED_RUN_DONE:
		printf("run %lld: %s (scope %s) succeeded in %.3f s: %lld rows in, %lld rows out, "
		       "%lld partitions\n",
		       (long long)res->id, req->flow->name, req->scope, res->duration_us / 1e6,
		       (long long)res->stats.rows_in, (long long)res->stats.rows_out,
		       (long long)res->stats.partitions);
		break;
	case SCHED_RUN_FAILED:
		cli_error(ctx, "run %lld: %s (scope %s) failed after %.3f s: %s",
		          (long long)res->id, req->flow->name, req->scope, res->duration_us / 1e6,
		          res->error);
		break;
	case SCHED_RUN_BUSY:
		cli_error(ctx,
		          "%s (scope %s): another run holds its lock; nothing was done "
		          "(`topsongs flows runs --flow %s` shows it)",
		          req->flow->name, req->scope, req->flow->name);
		break;
	}
}

static int run_flow(struct cli_ctx *ctx)
{
	struct sched_run_req req = {.trigger = "manual", .attempt = 1};
	struct sched_run_result res;
	char scope[SCHED_SCOPE_MAX], owner[SCHED_OWNER_MAX], host[128] = "localhost";
	struct ts_err err;
	int rc;

	if (run_args(ctx, &req.flow, &req.args))
		return EXIT_USAGE;
	sched_runs_scope(&req.args, scope, sizeof(scope));
	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	snprintf(owner, sizeof(owner), "flows-run@%s:%d", host, (int)getpid());
	req.scope = scope;
	req.owner = owner;
	req.lease_ms = ctx->cfg.scheduler_lease_ms;
	req.renew_ms = ctx->cfg.scheduler_heartbeat_ms;
	memset(&res, 0, sizeof(res));
	rc = cmd_scheduler_migrate(&ctx->cfg, &err);
	progress_setup(1); /* a terminal sees the hours go by; logs and pipes do not */
	if (!rc)
		rc = sched_run(&ctx->cfg, &req, &res, &err);
	progress_erase();
	report_run(ctx, &req, rc, &res, &err);
	return sched_exit_status(rc, &res);
}

/* ---- flows runs ---- */

enum {
	C_ID,
	C_FLOW,
	C_SCOPE,
	C_TRIGGER,
	C_STATE,
	C_ATTEMPT,
	C_OWNER,
	C_STARTED,
	C_SECONDS,
	C_IN,
	C_OUT,
	C_ERROR
};

static const char sql_runs[] =
    "SELECT id, flow, scope, trigger, state, attempt, owner,"
    " to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"
    " extract(epoch FROM coalesce(finished_at, now()) - started_at)::float8,"
    " rows_in, rows_out, error"
    " FROM flow_runs WHERE ($1::text IS NULL OR flow = $1) ORDER BY id DESC LIMIT $2";

static int runs_json(PGresult *r, struct dbuf *out)
{
	static const char *const names[] = {"id",      "flow",    "scope",    "trigger",
	                                    "state",   "attempt", "owner",    "started_at",
	                                    "seconds", "rows_in", "rows_out", "error"};
	int rc = 0;

	for (int i = 0; !rc && i < PQntuples(r); i++) {
		rc = dbuf_addc(out, '{');
		for (int c = 0; !rc && c <= C_ERROR; c++) {
			int num = c == C_ID || c == C_ATTEMPT || c == C_SECONDS || c == C_IN ||
			          c == C_OUT;

			rc = dbuf_addf(out, "%s\"%s\":", c ? "," : "", names[c]);
			if (!rc && PQgetisnull(r, i, c))
				rc = dbuf_addstr(out, "null");
			else if (!rc && num)
				rc = dbuf_addstr(out, PQgetvalue(r, i, c));
			else if (!rc)
				rc = dbuf_add_json_str(out, PQgetvalue(r, i, c));
		}
		rc = rc ? rc : dbuf_addstr(out, "}\n");
	}
	return rc;
}

static int runs_table(PGresult *r, struct dbuf *out)
{
	int rc = dbuf_addf(out, "%-6s %-10s %-12s %-9s %-9s %-3s %-24s %9s %9s %9s  %s\n", "ID",
	                   "FLOW", "SCOPE", "TRIGGER", "STATE", "TRY", "STARTED", "SECONDS",
	                   "ROWS IN", "ROWS OUT", "ERROR");

	for (int i = 0; !rc && i < PQntuples(r); i++) {
		const char *err = PQgetvalue(r, i, C_ERROR);

		rc = dbuf_addf(out, "%-6s %-10s %-12s %-9s %-9s %-3s %-24s %9.3f %9s %9s  %.*s%s\n",
		               PQgetvalue(r, i, C_ID), PQgetvalue(r, i, C_FLOW),
		               PQgetvalue(r, i, C_SCOPE), PQgetvalue(r, i, C_TRIGGER),
		               PQgetvalue(r, i, C_STATE), PQgetvalue(r, i, C_ATTEMPT),
		               PQgetvalue(r, i, C_STARTED),
		               strtod(PQgetvalue(r, i, C_SECONDS), NULL),
		               PQgetisnull(r, i, C_IN) ? "-" : PQgetvalue(r, i, C_IN),
		               PQgetisnull(r, i, C_OUT) ? "-" : PQgetvalue(r, i, C_OUT), 100, err,
		               strlen(err) > 100 ? "..." : "");
	}
	return rc;
}

static int list_runs(struct cli_ctx *ctx)
{
	const char *flow = cli_opt(ctx, "flow");
	char limit[24];
	const char *params[] = {flow, limit};
	long long n;
	struct db *db = NULL;
	PGresult *r = NULL;
	struct dbuf out;
	struct ts_err err;
	int rc;

	if (cli_opt_int(ctx, "limit", 20, 1, 10000, &n))
		return EXIT_USAGE;
	if (flow && !flow_find(flow)) {
		cli_error(ctx, "--flow: no flow named '%s' (see `topsongs flows list`)", flow);
		return EXIT_USAGE;
	}
	snprintf(limit, sizeof(limit), "%lld", n);
	dbuf_init(&out, 64 << 20);
	rc = cmd_scheduler_migrate(&ctx->cfg, &err);
	rc = rc ? rc : db_connect(&ctx->cfg, 5000, &db, &err);
	rc = rc ? rc : db_execp(db, sql_runs, 2, params, &r, &err);
	if (!rc)
		rc = cli_flag(ctx, "json") ? runs_json(r, &out) : runs_table(r, &out);
	if (rc) {
		cli_error(ctx, "%s", err.msg[0] ? err.msg : ts_code_name(rc));
	} else {
		fputs(dbuf_str(&out), stdout);
		fflush(stdout);
	}
	PQclear(r);
	db_free(db);
	dbuf_release(&out);
	return !rc ? EXIT_OK : rc == TS_EUNAVAIL ? EXIT_UNAVAILABLE : EXIT_FAILURE_;
}

int cmd_flows(struct cli_ctx *ctx)
{
	const char *sub = ctx->args.pos[0];

	if (!strcmp(sub, "list") && ctx->args.npos == 1)
		return list_flows(ctx);
	if (!strcmp(sub, "run"))
		return run_flow(ctx);
	if (!strcmp(sub, "runs") && ctx->args.npos == 1)
		return list_runs(ctx);
	cli_error(ctx, "expected list, run NAME or runs; see topsongs flows -h");
	return EXIT_USAGE;
}
