/*
 * `topsongs retention --keep-days N [--dry-run]`: deletes the lake's hour
 * partitions (raw/ and enriched/) older than N days, with their bookkeeping,
 * keeping the charts (lake_retention.h has the how and the safety argument).
 */
#include "base/common.h"
#include "base/progress.h"
#include "base/timeutil.h"
#include "cli/commands.h"
#include "db/db.h"
#include "lake/lake_retention.h"

#include <inttypes.h>

const struct cli_opt cmd_retention_opts[] = {
    {"keep-days", "N", "keep the last N days of the lake (whole hours older than that go)"},
    {"keep-hours", "N", "the same in hours, instead of --keep-days"},
    {"dry-run", NULL, "list the hours that would go and their objects; change nothing"},
    {"region", "R", "only region R"},
    {"force", NULL, "allow keeping less than ingest.max-age-s (see below)"},
    {"verbose", NULL, "print one line per hour"},
    {NULL, NULL, NULL},
};

const char cmd_retention_details[] =
    "Deletes from the lake (folder or S3) every raw/ and enriched/ hour partition\n"
    "that ended more than the kept time ago, and their bookkeeping rows in\n"
    "PostgreSQL. The charts (top_songs_hourly, top_songs_daily, plays_hourly) are\n"
    "kept. An hour with work not yet in the charts (a raw file not enriched, an\n"
    "enriched file not aggregated) is kept and reported. Safe while ingest and\n"
    "the flows run (it takes their locks), idempotent, and a run killed half way\n"
    "is finished by the next run. The kept time must be at least ingest.max-age-s\n"
    "(30 days by default), so that no late play can land in a pruned hour;\n"
    "--force skips that check.";

static int keep_seconds(struct cli_ctx *ctx, long long *keep_s)
{
	long long days, hours;

	if (cli_opt_int(ctx, "keep-days", 0, 1, 36500, &days) ||
	    cli_opt_int(ctx, "keep-hours", 0, 1, 36500LL * 24, &hours))
		return EXIT_USAGE;
	if (!days == !hours) {
		cli_error(ctx, "give --keep-days N or --keep-hours N (one of them)");
		return EXIT_USAGE;
	}
	*keep_s = days ? days * 86400 : hours * 3600;
	if (*keep_s < ctx->cfg.ingest_max_age_s && !cli_flag(ctx, "force")) {
		cli_error(
		    ctx,
		    "keeping %llds would prune hours ingest still files late plays into "
		    "(ingest.max-age-s = %llds): keep more, lower ingest.max-age-s, or --force",
		    *keep_s, (long long)ctx->cfg.ingest_max_age_s);
		return EXIT_USAGE;
	}
	return 0;
}

/* Whether region is a word of the configured list ("NA SA EU ..."). */
static void on_hour(const char *region, const char *day, int hour, const char *verdict,
                    int64_t objects, void *arg)
{
	int verbose = *(int *)arg;

	if (!verbose && strncmp(verdict, "kept", 4))
		return;
	progress_erase();
	printf("%s %s %02d:00 %s (%" PRId64 " objects)\n", region, day, hour, verdict, objects);
	fflush(stdout);
}

static void summary(const struct lake_retention_opts *o, const struct lake_retention_stats *st)
{
	char cutoff[40];

	time_format_rfc3339_ms(o->cutoff_us, cutoff, sizeof(cutoff));
	printf("retention: %s%" PRId64 " hours before %s%s, %" PRId64 " objects, %" PRId64
	       " raw rows; %" PRId64 " kept (not yet in the charts); %" PRId64
	       " finished from an interrupted run\n",
	       o->dry_run ? "would prune " : "pruned ", st->hours, cutoff,
	       o->region ? " (one region)" : "", st->objects, st->raw_rows, st->hours_pending,
	       st->hours_resumed);
}

int cmd_retention(struct cli_ctx *ctx)
{
	struct lake_retention_opts o = {0};
	struct lake_retention_stats st;
	struct db *db = NULL;
	struct ts_err err;
	long long keep_s;
	int rc, applied, verbose = cli_flag(ctx, "verbose") || cli_flag(ctx, "dry-run");

	if ((rc = keep_seconds(ctx, &keep_s)))
		return rc;
	o.dry_run = cli_flag(ctx, "dry-run");
	if (cli_opt_region(ctx, &o.region))
		return EXIT_USAGE;
	/* whole hours: an hour goes once all of it is older than the kept time */
	o.cutoff_us = (time_now_us() - keep_s * TIME_US_PER_SEC) / (3600 * TIME_US_PER_SEC) *
	              (3600 * TIME_US_PER_SEC);
	ts_err_clear(&err);
	progress_setup(1);
	rc = db_connect(&ctx->cfg, (int)ctx->cfg.check_timeout_ms, &db, &err);
	rc = rc ? rc : db_migrate(db, &applied, &err);
	rc = rc ? rc : lake_retention_run(db, &ctx->cfg, &o, on_hour, &verbose, &st, &err);
	if (!rc)
		summary(&o, &st);
	else
		cli_error(ctx, "%s", err.msg);
	db_free(db);
	if (rc == TS_EUNAVAIL || rc == TS_ETIMEDOUT)
		return EXIT_UNAVAILABLE;
	return rc ? EXIT_FAILURE_ : EXIT_OK;
}
