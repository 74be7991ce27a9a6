/*
 * `topsongs check [--json]`: probes every configured service (check/check.h)
 * and prints one row per service, or a JSON object with --json. The exit
 * status is 0 when every service named in check.required is ok, 3
 * (EXIT_UNAVAILABLE) when one is not, 2 for a bad check.required.
 */
#include "base/common.h"
#include "base/dbuf.h"
#include "check/check.h"
#include "check/check_report.h"
#include "cli/commands.h"

const struct cli_opt cmd_check_opts[] = {
    {"json", NULL, "print a JSON object instead of a table"},
    {NULL, NULL, NULL},
};

int cmd_check(struct cli_ctx *ctx)
{
	struct check_result results[CHECK_MAX_PROBES];
	struct dbuf out;
	struct ts_err err;
	int rc, status;

	ts_err_clear(&err);
	rc = check_run(&ctx->cfg, results, &err);
	if (rc == TS_EINVAL || rc == TS_ENOMEM || rc == TS_EIO) {
		cli_error(ctx, "%s", err.msg);
		return rc == TS_EINVAL ? EXIT_USAGE : EXIT_FAILURE_;
	}
	status = rc ? EXIT_UNAVAILABLE : EXIT_OK;
	dbuf_init(&out, 1 << 20);
	if (cli_flag(ctx, "json"))
		rc = check_report_json(results, check_nprobes, &out);
	else
		rc = check_report_table(results, check_nprobes, &out);
	if (rc) {
		cli_error(ctx, "cannot render the report: %s", ts_code_name(rc));
		status = EXIT_FAILURE_;
	}
	fputs(dbuf_str(&out), stdout);
	fflush(stdout);
	dbuf_release(&out);
	return status;
}
