/*
 * `topsongs ingest`: run the Kafka -> raw lake job until SIGTERM/SIGINT.
 */
#include "base/common.h"
#include "base/log.h"
#include "cli/commands.h"
#include "ingest/ingest.h"

int cmd_ingest(struct cli_ctx *ctx)
{
	struct ingest_stats stats = {0};
	struct ts_err err;
	int rc;

	cli_install_signals();
	log_info("starting", "topic=%s group=%s lake=%s", ctx->cfg.kafka_topic,
	         ctx->cfg.ingest_group, ctx->cfg.lake_url);
	rc = ingest_run(&ctx->cfg, &cli_stop_requested, &stats, &err);
	log_info("stopped", "records=%lld rows=%lld dead_letters=%lld commits=%lld files=%lld",
	         (long long)stats.records, (long long)stats.rows, (long long)stats.dead,
	         (long long)stats.commits, (long long)stats.files);
	if (rc) {
		cli_error(ctx, "%s", err.msg);
		return rc == TS_EINVAL     ? EXIT_USAGE
		       : rc == TS_EUNAVAIL ? EXIT_UNAVAILABLE
		                           : EXIT_FAILURE_;
	}
	return EXIT_OK;
}
