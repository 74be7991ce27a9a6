/* Temporary: replaced by cmd_check.c and cmd_api.c. */
#include "base/common.h"
#include "cli/commands.h"
int cmd_check(struct cli_ctx *ctx) { (void)ctx; return 0; }
const struct cli_opt cmd_check_opts[] = {{"json", NULL, "x"}, {NULL, NULL, NULL}};
