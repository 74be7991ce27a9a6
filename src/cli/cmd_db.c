/*
 * `topsongs db migrate|run-flow`: applies the schema migrations (which the
 * commands that use the database also do at start-up), and runs one flow
 * once — `run-flow` is for testing the flows until `topsongs flows run`
 * exists, and will go away then.
 */
#include "base/common.h"
#include "base/timeutil.h"
#include "cli/commands.h"
#include "db/db.h"
#include "flow/flow.h"

#include <inttypes.h>

const struct cli_opt cmd_db_opts[] = {
    {"from", "TIME", "run-flow: only event hours ending after TIME (RFC 3339)"},
    {"to", "TIME", "run-flow: only event hours starting before TIME (RFC 3339)"},
    {"region", "R", "run-flow: only region R"},
    {NULL, NULL, NULL},
};

const char cmd_db_details[] =
    "migrate        applies every schema migration this binary knows and the\n"
    "               database has not seen yet (each in its own transaction)\n"
    "run-flow NAME  runs flow NAME (enrich, aggregate) once and prints its counts.\n"
    "               For testing only: `topsongs flows run` replaces it.";

static int exit_for(int rc)
{
	if (rc == TS_EUNAVAIL || rc == TS_ETIMEDOUT)
		return EXIT_UNAVAILABLE;
	if (rc == TS_EINVAL)
		return EXIT_USAGE;
	return rc ? EXIT_FAILURE_ : EXIT_OK;
}

static int parse_time(const struct cli_ctx *ctx, const char *name, int64_t *out)
{
	const char *v = cli_opt(ctx, name), *why = NULL;

	*out = 0;
	if (!v)
		return 0;
	if (time_parse_rfc3339(v, strlen(v), out, &why)) {
		cli_error(ctx, "--%s %s: %s", name, v, why ? why : "not an RFC 3339 time");
		return TS_EINVAL;
	}
	return 0;
}

static int run_flow(struct cli_ctx *ctx, struct db *db, struct ts_err *err)
{
	const struct flow_def *f = ctx->args.npos > 1 ? flow_find(ctx->args.pos[1]) : NULL;
	struct flow_args a = {&ctx->cfg, 0, 0, cli_opt(ctx, "region")};
	struct flow_stats st = {0};
	int rc;

	if (!f)
		return ts_err_set(err, TS_EINVAL,
		                  "run-flow needs a flow name: enrich or aggregate");
	if (parse_time(ctx, "from", &a.from_us) || parse_time(ctx, "to", &a.to_us))
		return ts_err_set(err, TS_EINVAL, "bad --from or --to");
	rc = f->run(db, &a, &st, err);
	if (!rc)
		printf("flow %s: rows_in=%" PRId64 " rows_out=%" PRId64 " partitions=%" PRId64 "\n",
		       f->name, st.rows_in, st.rows_out, st.partitions);
	return rc;
}

int cmd_db(struct cli_ctx *ctx)
{
	const char *verb = ctx->args.pos[0];
	struct db *db = NULL;
	struct ts_err err;
	int rc, applied = 0;

	if (strcmp(verb, "migrate") && strcmp(verb, "run-flow")) {
		cli_error(ctx, "usage: topsongs db %s", ctx->cmd->usage);
		return EXIT_USAGE;
	}
	ts_err_clear(&err);
	rc = db_connect(&ctx->cfg, (int)ctx->cfg.check_timeout_ms, &db, &err);
	rc = rc ? rc : db_migrate(db, &applied, &err);
	if (!rc && !strcmp(verb, "migrate"))
		printf("schema at version %d (%d migration%s applied)\n", db_schema_version(),
		       applied, applied == 1 ? "" : "s");
	else if (!rc)
		rc = run_flow(ctx, db, &err);
	if (rc)
		cli_error(ctx, "%s", err.msg);
	db_free(db);
	return exit_for(rc);
}
