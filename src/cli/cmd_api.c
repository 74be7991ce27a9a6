/*
 * `topsongs api`: serve until SIGTERM/SIGINT, then drain and exit 0.
 */
#include "base/common.h"
#include "api/api.h"
#include "base/log.h"
#include "cli/commands.h"

#include <unistd.h>

int cmd_api(struct cli_ctx *ctx)
{
	struct api_server *srv = NULL;
	struct ts_err err;
	int rc;

	cli_install_signals();
	rc = api_server_start(&ctx->cfg, &srv, &err);
	if (rc) {
		cli_error(ctx, "%s", err.msg);
		return rc == TS_EINVAL ? EXIT_USAGE : EXIT_UNAVAILABLE;
	}
	log_info("listening", "addr=%s port=%d kafka=%s topic=%s", ctx->cfg.api_listen,
	         api_server_port(srv), ctx->cfg.kafka_brokers, ctx->cfg.kafka_topic);
	while (!cli_stop_requested)
		usleep(100000);
	log_info("draining", "timeout_ms=%lld", (long long)ctx->cfg.api_drain_timeout_ms);
	rc = api_server_drain(srv, (int)ctx->cfg.api_drain_timeout_ms);
	if (rc)
		log_warn("drain timed out; unacknowledged plays are answered 503", NULL);
	api_server_free(srv);
	log_info("stopped", NULL);
	return EXIT_OK;
}
