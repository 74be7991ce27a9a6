/*
 * `topsongs help [COMMAND]`, `topsongs version` and `topsongs config`.
 */
#include "base/common.h"
#include "base/dbuf.h"
#include "cli/commands.h"

#ifndef TOPSONGS_VERSION
#define TOPSONGS_VERSION "0.0.0-dev"
#endif

int cmd_help(struct cli_ctx *ctx)
{
	if (ctx->args.npos == 1) {
		for (size_t i = 0; i < cli_ncommands; i++) {
			if (!strcmp(cli_commands[i].name, ctx->args.pos[0])) {
				cli_print_help(stdout, &cli_commands[i]);
				return EXIT_OK;
			}
		}
		cli_error(ctx, "'%s' is not a command", ctx->args.pos[0]);
		return EXIT_USAGE;
	}
	printf("usage: topsongs COMMAND [options]\n\n"
	       "Live top-10 song charts per region, from a firehose of plays.\n\n"
	       "commands:\n");
	for (size_t i = 0; i < cli_ncommands; i++)
		printf("  %-10s %s\n", cli_commands[i].name, cli_commands[i].summary);
	printf("\n'topsongs COMMAND -h' shows a command's options.\n");
	return EXIT_OK;
}

int cmd_version(struct cli_ctx *ctx)
{
	(void)ctx;
	printf("topsongs %s\n", TOPSONGS_VERSION);
	return EXIT_OK;
}

const struct cli_opt cmd_config_opts[] = {
    {"reference", NULL, "print the Markdown table of every key instead"},
    {NULL, NULL, NULL},
};

int cmd_config(struct cli_ctx *ctx)
{
	struct dbuf out;
	int rc;

	if (cli_flag(ctx, "reference")) {
		config_write_reference(stdout);
		return EXIT_OK;
	}
	dbuf_init(&out, 1 << 20);
	rc = config_dump(&ctx->cfg, &out);
	fputs(dbuf_str(&out), stdout);
	dbuf_release(&out);
	return rc ? EXIT_FAILURE_ : EXIT_OK;
}
