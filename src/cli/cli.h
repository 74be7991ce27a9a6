/*
 * The command line: the table of subcommands (main.c), their option tables,
 * and a parser shared by all of them. Each subcommand lives in its own
 * cmd_NAME.c and is the only place that prints to the user or picks an exit
 * status (modules report, commands decide).
 *
 * Every command accepts, besides its own options, every configuration key as
 * a flag (--api-listen=HOST:PORT or --api-listen HOST:PORT) and -h/--help.
 */
#ifndef CLI_CLI_H
#define CLI_CLI_H

#include "base/config.h"

#define CLI_MAX_OPTS 32
#define CLI_MAX_POS  16

/* Exit statuses, documented in docs/operations.md. */
enum cli_exit {
	EXIT_OK = 0,
	EXIT_FAILURE_ = 1,    /* the work failed (a check failed, a flow failed) */
	EXIT_USAGE = 2,       /* bad flags, arguments or configuration */
	EXIT_UNAVAILABLE = 3, /* a required service could not be reached */
};

struct cli_opt {
	const char *name; /* long name without dashes: "rate" */
	const char *arg;  /* metavariable ("N") or NULL for a boolean flag */
	const char *help;
};

struct cli_args {
	const char *val[CLI_MAX_OPTS]; /* value, or "1" for a boolean; NULL if absent */
	const char *pos[CLI_MAX_POS];
	int npos;
};

struct cli_cmd;

/* What every command entry point receives. */
struct cli_ctx {
	struct ts_config cfg;
	const struct cli_cmd *cmd;
	struct cli_args args;
};

struct cli_cmd {
	const char *name;
	int (*run)(struct cli_ctx *ctx);
	const char *usage;          /* after "topsongs NAME ": "[--json]" */
	const char *summary;        /* one line */
	const char *details;        /* paragraphs for -h, may be NULL */
	const struct cli_opt *opts; /* terminated by a {NULL} entry; may be NULL */
	int min_pos, max_pos;
	const char *exits; /* "0 ..., 1 ...": -h prints it; NULL: the common statuses */
};

/* The exit statuses most commands share (docs/operations.md). */
extern const char cli_common_exits[];

/* The table (main.c). */
extern const struct cli_cmd cli_commands[];
extern const size_t cli_ncommands;

/* Value of the command's own option `name`, or NULL when not given. */
const char *cli_opt(const struct cli_ctx *ctx, const char *name);
/* A boolean option. */
int cli_flag(const struct cli_ctx *ctx, const char *name);
/* The --region option: *out is NULL when absent, else a configured region.
 * Returns 0 or TS_EINVAL after printing a usage error. */
int cli_opt_region(const struct cli_ctx *ctx, const char **out);
/* Parses option `name` as an integer in [min, max]; *out keeps def when absent.
 * Returns 0 or TS_EINVAL after printing a usage error. */
int cli_opt_int(const struct cli_ctx *ctx, const char *name, long long def, long long min,
                long long max, long long *out);
int cli_opt_double(const struct cli_ctx *ctx, const char *name, double def, double min, double max,
                   double *out);

/* Prints "topsongs NAME: message" to stderr (usage errors, failures). */
void cli_error(const struct cli_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prints the -h text of a command. */
void cli_print_help(FILE *out, const struct cli_cmd *cmd);

/* Runs the command line; returns the exit status. */
int cli_main(int argc, char **argv, char **envp);

/* Set by SIGINT/SIGTERM handlers installed with cli_install_signals(). */
extern volatile int cli_stop_requested;
void cli_install_signals(void);

#endif
