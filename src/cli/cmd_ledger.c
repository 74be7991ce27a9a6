/*
 * `topsongs ledger [--from T] [--to T] [--region R] [--json] [--no-lake]`:
 * the count of plays at every stage of the pipeline for a range of event
 * time, with every difference classified (ledger/ledger.h,
 * docs/ledger.md). Exit status: 0 balanced, or only in flight; 1 a
 * mismatch (explained or not); 2 usage; 3 PostgreSQL unreachable; 4 the
 * lake or the database could not be read.
 */
#include "base/common.h"
#include "api/api_read.h"
#include "base/dbuf.h"
#include "base/timeutil.h"
#include "cli/commands.h"
#include "db/db.h"
#include "ledger/ledger.h"
#include "kafka/kafka_watermarks.h"

#define EXIT_LEDGER_MISMATCH 1
#define EXIT_LEDGER_READ     4

const struct cli_opt cmd_ledger_opts[] = {
    {"from", "TIME", "start of the range of event time (default: --to minus 24 h)"},
    {"to", "TIME", "end of the range, exclusive (default: now)"},
    {"region", "R", "only region R (default: every configured region)"},
    {"json", NULL, "print the JSON document of docs/ledger.md"},
    {"no-lake", NULL, "trust the bookkeeping: do not read the lake's Parquet footers"},
    {NULL, NULL, NULL},
};

const char cmd_ledger_details[] =
    "Counts the plays of every (region, hour) of the range at each stage: accepted\n"
    "by the api (202), taken from Kafka by ingest, in raw/ (the Parquet footers),\n"
    "distinct in enriched/, in plays_hourly and in the daily per-song sums. Every\n"
    "difference is classified: in flight (it will settle), settled (duplicates\n"
    "removed) or a mismatch (dead-lettered, api counts lost, missing, lake files\n"
    "missing or extra, ...). TIME is RFC 3339, YYYY-MM-DD, YYYY-MM-DDTHH or 'now';\n"
    "the range is widened to whole hours.\n"
    "Exit status: 0 balanced or only in flight, 1 a mismatch, 2 usage, 3 PostgreSQL\n"
    "unreachable, 4 the lake or the database could not be read. See docs/ledger.md.";

static int parse_when(const struct cli_ctx *ctx, const char *name, int64_t def, int64_t *out)
{
	const char *v = cli_opt(ctx, name), *why = NULL;

	*out = def;
	if (!v || !strcmp(v, "now"))
		return 0;
	if (!time_parse_rfc3339(v, strlen(v), out, &why) || !api_read_parse_time(v, out, &why))
		return 0;
	cli_error(ctx, "--%s '%s': %s", name, v, why ? why : "not a time");
	return TS_EINVAL;
}

static int ledger_args(struct cli_ctx *ctx, struct ledger_opts *o)
{
	int64_t now = time_now_us();

	if (parse_when(ctx, "to", now, &o->to_us) ||
	    parse_when(ctx, "from", o->to_us - 24 * 3600000000LL, &o->from_us))
		return TS_EINVAL;
	if (o->from_us >= o->to_us) {
		cli_error(ctx, "--from must be before --to");
		return TS_EINVAL;
	}
	if (cli_opt_region(ctx, &o->region))
		return TS_EINVAL;
	o->check_lake = !cli_flag(ctx, "no-lake");
	return 0;
}

static int print(struct cli_ctx *ctx, const struct ledger_report *r)
{
	struct dbuf out;
	int rc;

	dbuf_init(&out, 256u << 20);
	rc = cli_flag(ctx, "json") ? ledger_report_json(r, &out) : ledger_report_text(r, &out);
	if (rc)
		cli_error(ctx, "cannot render the report: %s", ts_code_name(rc));
	else
		fputs(dbuf_str(&out), stdout);
	fflush(stdout);
	dbuf_release(&out);
	return rc;
}

int cmd_ledger(struct cli_ctx *ctx)
{
	struct ledger_opts o = {0};
	struct ledger_report *r = NULL;
	struct kafka_watermarks *k = NULL;
	struct db *db = NULL;
	struct ts_err err;
	int rc, status;

	ts_err_clear(&err);
	if (ledger_args(ctx, &o))
		return EXIT_USAGE;
	rc = db_connect(&ctx->cfg, (int)ctx->cfg.check_timeout_ms, &db, &err);
	if (rc) {
		cli_error(ctx, "%s", err.msg);
		return EXIT_UNAVAILABLE;
	}
	rc = kafka_watermarks_new(&ctx->cfg, "topsongs-ledger", LEDGER_KAFKA_TIMEOUT_MS, &k, &err);
	o.kafka = k;
	rc = rc ? rc : ledger_run(db, &ctx->cfg, &o, &r, &err);
	if (rc) {
		cli_error(ctx, "%s", err.msg);
		status = rc == TS_EINVAL     ? EXIT_USAGE
		         : rc == TS_EUNAVAIL ? EXIT_UNAVAILABLE
		                             : EXIT_LEDGER_READ;
	} else {
		status = print(ctx, r)   ? EXIT_LEDGER_READ
		         : r->mismatches ? EXIT_LEDGER_MISMATCH
		                         : EXIT_OK;
	}
	ledger_report_free(r);
	kafka_watermarks_free(k);
	db_free(db);
	return status;
}
