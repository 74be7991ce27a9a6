/* Temporary: replaced by cmd_parquet.c. */
#include "base/common.h"
#include "cli/commands.h"
int cmd_parquet(struct cli_ctx *ctx) { (void)ctx; return 0; }
const struct cli_opt cmd_parquet_opts[] = {{NULL, NULL, NULL}};
const char cmd_parquet_details[] = "";
