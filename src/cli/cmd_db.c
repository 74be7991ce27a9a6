/*
 * `topsongs db migrate`: applies the schema migrations (which the commands
 * that use the database also do at start-up), for deployments that migrate
 * as a separate step. Flows are run by `topsongs flows run`.
 */
#include "base/common.h"
#include "cli/commands.h"
#include "db/db.h"

const char cmd_db_details[] =
    "migrate        applies every schema migration this binary knows and the\n"
    "               database has not seen yet (each in its own transaction,\n"
    "               under an advisory lock, so concurrent starts are safe)";

int cmd_db(struct cli_ctx *ctx)
{
	struct db *db = NULL;
	struct ts_err err;
	int rc, applied = 0;

	if (strcmp(ctx->args.pos[0], "migrate")) {
		cli_error(ctx, "usage: topsongs db %s", ctx->cmd->usage);
		return EXIT_USAGE;
	}
	ts_err_clear(&err);
	rc = db_connect(&ctx->cfg, (int)ctx->cfg.check_timeout_ms, &db, &err);
	rc = rc ? rc : db_migrate(db, &applied, &err);
	if (!rc)
		printf("schema at version %d (%d migration%s applied)\n", db_schema_version(),
		       applied, applied == 1 ? "" : "s");
	else
		cli_error(ctx, "%s", err.msg);
	db_free(db);
	if (rc == TS_EUNAVAIL || rc == TS_ETIMEDOUT)
		return EXIT_UNAVAILABLE;
	return rc ? EXIT_FAILURE_ : EXIT_OK;
}
