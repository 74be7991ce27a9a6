/*
 * Argument parsing, help text and dispatch, all driven by the command and
 * configuration tables, so help cannot drift from what is accepted.
 */
#include "base/common.h"
#include "base/log.h"
#include "cli/cli.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>

volatile int cli_stop_requested;

const char cli_common_exits[] = "  0 success, 1 the work failed, 2 usage or configuration error,\n"
                                "  3 a required service (PostgreSQL, Kafka, the store) unreachable";

static void on_signal(int sig)
{
	(void)sig;
	cli_stop_requested = 1;
}

void cli_install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

void cli_error(const struct cli_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "topsongs %s: ", ctx && ctx->cmd ? ctx->cmd->name : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int opt_index(const struct cli_cmd *cmd, const char *name)
{
	for (int i = 0; cmd->opts && cmd->opts[i].name; i++)
		if (!strcmp(cmd->opts[i].name, name))
			return i;
	return -1;
}

const char *cli_opt(const struct cli_ctx *ctx, const char *name)
{
	int i = opt_index(ctx->cmd, name);

	if (i < 0)
		BUG("command %s has no option --%s", ctx->cmd->name, name);
	return ctx->args.val[i];
}

int cli_flag(const struct cli_ctx *ctx, const char *name)
{
	return cli_opt(ctx, name) != NULL;
}

int cli_opt_region(const struct cli_ctx *ctx, const char **out)
{
	const char *region = cli_opt(ctx, "region");

	*out = region;
	if (!region || config_has_region(&ctx->cfg, region, strlen(region)))
		return 0;
	cli_error(ctx, "--region %s is not one of the configured regions (%s)", region,
	          ctx->cfg.regions);
	return TS_EINVAL;
}

int cli_opt_int(const struct cli_ctx *ctx, const char *name, long long def, long long min,
                long long max, long long *out)
{
	const char *v = cli_opt(ctx, name);
	char *end;
	long long n;

	*out = def;
	if (!v)
		return 0;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno || end == v || *end || n < min || n > max) {
		cli_error(ctx, "--%s: expected an integer in [%lld, %lld], got '%s'", name, min,
		          max, v);
		return TS_EINVAL;
	}
	*out = n;
	return 0;
}

int cli_opt_double(const struct cli_ctx *ctx, const char *name, double def, double min, double max,
                   double *out)
{
	const char *v = cli_opt(ctx, name);
	char *end;
	double d;

	*out = def;
	if (!v)
		return 0;
	errno = 0;
	d = strtod(v, &end);
	if (errno || end == v || *end || !isfinite(d) || d < min || d > max) {
		cli_error(ctx, "--%s: expected a number in [%g, %g], got '%s'", name, min, max, v);
		return TS_EINVAL;
	}
	*out = d;
	return 0;
}

void cli_print_help(FILE *out, const struct cli_cmd *cmd)
{
	fprintf(out, "usage: topsongs %s %s\n\n%s\n", cmd->name, cmd->usage ? cmd->usage : "",
	        cmd->summary);
	if (cmd->details)
		fprintf(out, "\n%s\n", cmd->details);
	if (cmd->opts && cmd->opts[0].name) {
		fprintf(out, "\noptions:\n");
		for (int i = 0; cmd->opts[i].name; i++) {
			char left[64];

			snprintf(left, sizeof(left), "--%s%s%s", cmd->opts[i].name,
			         cmd->opts[i].arg ? " " : "",
			         cmd->opts[i].arg ? cmd->opts[i].arg : "");
			fprintf(out, "  %-26s %s\n", left, cmd->opts[i].help);
		}
	}
	fprintf(out, "  %-26s %s\n", "-h, --help", "show this help");
	fprintf(out, "\nexit status:\n%s\n", cmd->exits ? cmd->exits : cli_common_exits);
	fprintf(out, "\nEvery configuration key is also a flag (--api-listen HOST:PORT, ...);\n"
	             "`topsongs config --reference` lists them all.\n");
}

/* Handles one "--name[=value]" at argv[*i]. */
static int parse_long(struct cli_ctx *ctx, int argc, char **argv, int *i)
{
	char name[128];
	const char *arg = argv[*i] + 2, *eq = strchr(arg, '='), *value = NULL;
	size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
	struct ts_err err;
	int idx;

	if (len >= sizeof(name)) {
		cli_error(ctx, "unknown option '%s'", argv[*i]);
		return TS_EINVAL;
	}
	memcpy(name, arg, len);
	name[len] = '\0';
	idx = opt_index(ctx->cmd, name);
	if (idx >= 0 && !ctx->cmd->opts[idx].arg) {
		if (eq) {
			cli_error(ctx, "--%s takes no value", name);
			return TS_EINVAL;
		}
		ctx->args.val[idx] = "1";
		return 0;
	}
	if (idx < 0 && !config_find_flag(name)) {
		cli_error(ctx, "unknown option '--%s' (see topsongs %s -h)", name, ctx->cmd->name);
		return TS_EINVAL;
	}
	if (eq) {
		value = eq + 1;
	} else if (*i + 1 < argc) {
		value = argv[++*i];
	} else {
		cli_error(ctx, "--%s needs a value", name);
		return TS_EINVAL;
	}
	if (idx >= 0) {
		ctx->args.val[idx] = value;
		return 0;
	}
	if (config_set(&ctx->cfg, name, value, "flag", &err)) {
		cli_error(ctx, "%s", err.msg);
		return TS_EINVAL;
	}
	return 0;
}

/* Returns 0, TS_EINVAL (usage error printed) or 1 when help was asked for. */
static int parse_args(struct cli_ctx *ctx, int argc, char **argv)
{
	int only_pos = 0;

	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];

		if (!only_pos && (!strcmp(a, "-h") || !strcmp(a, "--help")))
			return 1;
		if (!only_pos && !strcmp(a, "--")) {
			only_pos = 1;
		} else if (!only_pos && a[0] == '-' && a[1] == '-') {
			if (parse_long(ctx, argc, argv, &i))
				return TS_EINVAL;
		} else if (!only_pos && a[0] == '-' && a[1]) {
			cli_error(ctx, "unknown option '%s' (see topsongs %s -h)", a,
			          ctx->cmd->name);
			return TS_EINVAL;
		} else if (ctx->args.npos >= CLI_MAX_POS) {
			cli_error(ctx, "too many arguments");
			return TS_EINVAL;
		} else {
			ctx->args.pos[ctx->args.npos++] = a;
		}
	}
	if (ctx->args.npos < ctx->cmd->min_pos || ctx->args.npos > ctx->cmd->max_pos) {
		cli_error(ctx, "wrong number of arguments; usage: topsongs %s %s", ctx->cmd->name,
		          ctx->cmd->usage ? ctx->cmd->usage : "");
		return TS_EINVAL;
	}
	return 0;
}

static const struct cli_cmd *find_cmd(const char *name)
{
	for (size_t i = 0; i < cli_ncommands; i++)
		if (!strcmp(cli_commands[i].name, name))
			return &cli_commands[i];
	return NULL;
}

static int setup_logging(struct cli_ctx *ctx)
{
	enum log_level level = LOG_INFO;
	enum log_format format = LOG_FORMAT_AUTO;

	/* Both were validated when set. */
	log_level_parse(ctx->cfg.log_level, &level);
	log_format_parse(ctx->cfg.log_format, &format);
	log_setup(level, format, ctx->cmd->name);
	return 0;
}

int cli_main(int argc, char **argv, char **envp)
{
	const char *name = argc > 1 ? argv[1] : "help";
	struct cli_ctx ctx;
	struct ts_err err;
	int rc;

	memset(&ctx, 0, sizeof(ctx));
	if (!strcmp(name, "-h") || !strcmp(name, "--help"))
		name = "help";
	if (!strcmp(name, "--version"))
		name = "version";
	ctx.cmd = find_cmd(name);
	if (!ctx.cmd) {
		fprintf(stderr, "topsongs: '%s' is not a command; see 'topsongs help'\n", name);
		return EXIT_USAGE;
	}
	config_init(&ctx.cfg);
	if (config_load(&ctx.cfg, getenv("TOPSONGS_ENV_FILE"), envp, &err)) {
		cli_error(&ctx, "configuration: %s", err.msg);
		config_release(&ctx.cfg);
		return EXIT_USAGE;
	}
	rc = parse_args(&ctx, argc > 1 ? argc - 2 : 0, argv + 2);
	if (rc == 1) {
		cli_print_help(stdout, ctx.cmd);
		rc = EXIT_OK;
	} else if (rc) {
		rc = EXIT_USAGE;
	} else {
		setup_logging(&ctx);
		rc = ctx.cmd->run(&ctx);
	}
	config_release(&ctx.cfg);
	return rc;
}
