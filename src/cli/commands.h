/*
 * Entry points and option tables of the subcommands, one cmd_NAME.c each.
 */
#ifndef CLI_COMMANDS_H
#define CLI_COMMANDS_H

#include "cli/cli.h"

int cmd_help(struct cli_ctx *ctx);
int cmd_version(struct cli_ctx *ctx);

int cmd_config(struct cli_ctx *ctx);
extern const struct cli_opt cmd_config_opts[];

int cmd_check(struct cli_ctx *ctx);
extern const struct cli_opt cmd_check_opts[];

int cmd_api(struct cli_ctx *ctx);

int cmd_ingest(struct cli_ctx *ctx);

int cmd_simulate(struct cli_ctx *ctx);
extern const struct cli_opt cmd_simulate_opts[];
extern const char cmd_simulate_details[];

int cmd_parquet(struct cli_ctx *ctx);
extern const struct cli_opt cmd_parquet_opts[];
extern const char cmd_parquet_details[];

int cmd_store(struct cli_ctx *ctx);
extern const struct cli_opt cmd_store_opts[];
extern const char cmd_store_details[];

int cmd_up(struct cli_ctx *ctx);
extern const struct cli_opt cmd_up_opts[];
extern const char cmd_up_details[];

int cmd_db(struct cli_ctx *ctx);
extern const char cmd_db_details[];

int cmd_catalog(struct cli_ctx *ctx);
extern const struct cli_opt cmd_catalog_opts[];
extern const char cmd_catalog_details[];

int cmd_scheduler(struct cli_ctx *ctx);
extern const char cmd_scheduler_details[];
/* Applies the schema migrations (scheduler, flows run, flows runs). */
int cmd_scheduler_migrate(const struct ts_config *cfg, struct ts_err *err);

int cmd_ledger(struct cli_ctx *ctx);
extern const struct cli_opt cmd_ledger_opts[];
extern const char cmd_ledger_details[];

int cmd_flows(struct cli_ctx *ctx);
extern const struct cli_opt cmd_flows_opts[];
extern const char cmd_flows_details[];

int cmd_retention(struct cli_ctx *ctx);
extern const struct cli_opt cmd_retention_opts[];
extern const char cmd_retention_details[];

#endif
