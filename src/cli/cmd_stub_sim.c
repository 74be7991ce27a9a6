/* Temporary: replaced by cmd_simulate.c. */
#include "base/common.h"
#include "cli/commands.h"
int cmd_simulate(struct cli_ctx *ctx) { (void)ctx; return 0; }
const struct cli_opt cmd_simulate_opts[] = {{NULL, NULL, NULL}};
const char cmd_simulate_details[] = "";
