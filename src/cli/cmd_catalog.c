/*
 * `topsongs catalog load`: fills the songs table from a CSV file
 * (song_id,title,artist,genre[,duration_ms], RFC 4180 quoting) or from the
 * simulator's catalog (--songs and --catalog-seed, as `topsongs simulate`).
 */
#include "base/common.h"
#include "cli/commands.h"
#include "db/db.h"
#include "flow/flow_catalog.h"
#include "sim/sim_catalog.h"

#include <errno.h>
#include <inttypes.h>

const struct cli_opt cmd_catalog_opts[] = {
    {"csv", "FILE", "load FILE ('-' = stdin): song_id,title,artist,genre[,duration_ms]"},
    {"songs", "N", "without --csv: the simulator's catalog of N songs (5000)"},
    {"catalog-seed", "N", "without --csv: the simulator's catalog seed (1)"},
    {NULL, NULL, NULL},
};

const char cmd_catalog_details[] =
    "load loads the catalog into the songs table in one transaction: a file with a\n"
    "bad record changes nothing and the error names its line. A header line\n"
    "(first field song_id or id) and blank lines are skipped; a song given twice\n"
    "keeps its last record; songs already loaded are updated.";

static int load(struct cli_ctx *ctx, struct db *db, int64_t *n, struct ts_err *err)
{
	const char *path = cli_opt(ctx, "csv");
	long long songs, seed;
	FILE *f;
	int rc;

	if (!path) {
		if (cli_opt_int(ctx, "songs", 5000, 1, SIM_CATALOG_MAX_SONGS, &songs) ||
		    cli_opt_int(ctx, "catalog-seed", 1, 0, INT64_MAX, &seed))
			return TS_EINVAL;
		return flow_catalog_load_sim(db, (uint64_t)seed, (uint32_t)songs, n, err);
	}
	f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	if (!f)
		return ts_err_set(err, TS_EINVAL, "%s: %s", path, strerror(errno));
	rc = flow_catalog_load_csv(db, f, strcmp(path, "-") ? path : "stdin", n, err);
	if (f != stdin)
		fclose(f);
	return rc;
}

int cmd_catalog(struct cli_ctx *ctx)
{
	struct db *db = NULL;
	struct ts_err err;
	int64_t n = 0;
	int rc, applied;

	if (strcmp(ctx->args.pos[0], "load")) {
		cli_error(ctx, "usage: topsongs catalog %s", ctx->cmd->usage);
		return EXIT_USAGE;
	}
	ts_err_clear(&err);
	rc = db_connect(&ctx->cfg, (int)ctx->cfg.check_timeout_ms, &db, &err);
	rc = rc ? rc : db_migrate(db, &applied, &err);
	rc = rc ? rc : load(ctx, db, &n, &err);
	if (!rc)
		printf("catalog: %" PRId64 " songs loaded\n", n);
	else if (err.msg[0])
		cli_error(ctx, "%s", err.msg);
	db_free(db);
	if (rc == TS_EUNAVAIL || rc == TS_ETIMEDOUT)
		return EXIT_UNAVAILABLE;
	return rc == TS_EINVAL ? EXIT_USAGE : rc ? EXIT_FAILURE_ : EXIT_OK;
}
