/*
 * `topsongs store put|get|ls|rm`: the object store of the configured lake
 * (lake.url, s3.*) by hand — for tests, and for looking into a lake without
 * other tools. put reads a file or stdin, get writes stdout or a file, ls
 * prints "SIZE<TAB>KEY" lines in key order, rm removes (absent keys too).
 */
#include "base/common.h"
#include "base/dbuf.h"
#include "cli/commands.h"
#include "store/store.h"

#include <errno.h>
#include <inttypes.h>

#define DEF_MAX_SIZE (1LL << 30)

const struct cli_opt cmd_store_opts[] = {
    {"file", "PATH",
     "put: read the object from PATH; get: write it to PATH (default: stdin/stdout)"},
    {"max-size", "BYTES", "largest object put reads or get accepts (default 1 GiB)"},
    {"page-size", "N", "ls: keys per S3 listing request (1-1000, default 1000)"},
    {NULL, NULL, NULL},
};

const char cmd_store_details[] =
    "put KEY    writes stdin (or --file) as KEY, atomically\n"
    "get KEY    prints KEY's bytes (exit 1 and 'no such object' when absent)\n"
    "ls [PREFIX] lists SIZE<TAB>KEY of every key starting with PREFIX\n"
    "rm KEY     removes KEY; removing an absent key succeeds\n"
    "The store is lake.url: a folder or s3://bucket/prefix (see docs/store.md).";

static int exit_for(int rc)
{
	if (rc == TS_EUNAVAIL || rc == TS_ETIMEDOUT)
		return EXIT_UNAVAILABLE;
	if (rc == TS_EINVAL)
		return EXIT_USAGE;
	return rc ? EXIT_FAILURE_ : EXIT_OK;
}

static int read_input(const char *path, size_t max, struct dbuf *out, struct ts_err *err)
{
	FILE *f = path ? fopen(path, "rb") : stdin;
	char buf[65536];
	size_t n;
	int rc = 0;

	if (!f)
		return ts_err_set(err, TS_EIO, "%s: %s", path, strerror(errno));
	dbuf_init(out, max);
	while (!rc && (n = fread(buf, 1, sizeof(buf), f)) > 0)
		rc = dbuf_add(out, buf, n);
	if (rc == TS_ETOOBIG)
		ts_err_set(err, rc, "%s is larger than --max-size %zu", path ? path : "stdin", max);
	else if (rc)
		ts_err_set(err, rc, "out of memory");
	else if (ferror(f))
		rc = ts_err_set(err, TS_EIO, "%s: read error", path ? path : "stdin");
	if (path)
		fclose(f);
	return rc;
}

static int write_output(const char *path, const struct dbuf *b, struct ts_err *err)
{
	FILE *f = path ? fopen(path, "wb") : stdout;
	int rc = 0;

	if (!f)
		return ts_err_set(err, TS_EIO, "%s: %s", path, strerror(errno));
	if (b->len && fwrite(b->buf, 1, b->len, f) != b->len)
		rc = ts_err_set(err, TS_EIO, "%s: write error", path ? path : "stdout");
	if ((path ? fclose(f) : fflush(f)) && !rc)
		rc = ts_err_set(err, TS_EIO, "%s: write error", path ? path : "stdout");
	return rc;
}

static int print_entry(const struct store_entry *e, void *arg)
{
	(void)arg;
	printf("%" PRIu64 "\t%s\n", e->size, e->key);
	return 0;
}

static int run(struct store *s, const struct cli_ctx *ctx, size_t max, struct ts_err *err)
{
	const char *verb = ctx->args.pos[0];
	const char *key = ctx->args.npos > 1 ? ctx->args.pos[1] : "";
	struct dbuf b;
	int rc;

	dbuf_init(&b, max);
	if (!strcmp(verb, "put")) {
		rc = read_input(cli_opt(ctx, "file"), max, &b, err);
		if (!rc)
			rc = store_put(s, key, b.buf ? b.buf : "", b.len, err);
	} else if (!strcmp(verb, "get")) {
		rc = store_get(s, key, max, &b, err);
		if (!rc)
			rc = write_output(cli_opt(ctx, "file"), &b, err);
	} else if (!strcmp(verb, "ls")) {
		rc = store_list(s, key, print_entry, NULL, err);
	} else {
		rc = store_delete(s, key, err);
	}
	dbuf_release(&b);
	return rc;
}

int cmd_store(struct cli_ctx *ctx)
{
	static const char *const verbs[] = {"put", "get", "ls", "rm"};
	const char *verb = ctx->args.pos[0];
	struct store_opts opts;
	struct store *s = NULL;
	struct ts_err err;
	long long max, page;
	int rc = TS_EINVAL;

	for (size_t i = 0; i < ARRAY_SIZE(verbs); i++)
		if (!strcmp(verb, verbs[i]))
			rc = 0;
	if (rc || (strcmp(verb, "ls") && ctx->args.npos != 2)) {
		cli_error(ctx, "usage: topsongs store %s", ctx->cmd->usage);
		return EXIT_USAGE;
	}
	if (cli_opt_int(ctx, "max-size", DEF_MAX_SIZE, 0, 1LL << 40, &max) ||
	    cli_opt_int(ctx, "page-size", 1000, 1, 1000, &page))
		return EXIT_USAGE;
	ts_err_clear(&err);
	store_opts_from_config(&ctx->cfg, &opts);
	opts.list_page = (int)page;
	rc = store_open(ctx->cfg.lake_url, &opts, &s, &err);
	if (!rc)
		rc = run(s, ctx, (size_t)max, &err);
	if (rc)
		cli_error(ctx, "%s", err.msg);
	store_free(s);
	return exit_for(rc);
}
