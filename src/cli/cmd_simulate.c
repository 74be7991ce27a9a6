/*
 * `topsongs simulate`: realistic listener traffic from the model in src/sim.
 * Three shapes of run: live to the api (event time is now, paced in real
 * time), a back-fill of a past range (--from/--to, as fast as the api takes
 * it or --speed times real time), or NDJSON to a file or stdout (--out).
 * This file decides the mode, paces, shows progress and prints the totals;
 * the model, the catalog and the HTTP sender only report.
 */
#include "base/common.h"
#include "base/progress.h"
#include "base/dbuf.h"
#include "base/timeutil.h"
#include "cli/commands.h"
#include "sim/sim_catalog.h"
#include "sim/sim_model.h"
#include "sim/sim_send.h"
#include "sim/sim_when.h"

#include <errno.h>
#include <time.h>
#include <unistd.h>

const struct cli_opt cmd_simulate_opts[] = {
    {"seed", "N", "seed of the model (default: from the clock; printed in the totals)"},
    {"rate", "R", "plays per second of event time, daily mean (100); 0 = flat out, live"},
    {"speed", "X", "event time runs X times real time; 0 = as fast as possible"},
    {"count", "N", "stop after N events (default: no limit)"},
    {"duration", "SECONDS", "stop after this much wall-clock time"},
    {"from", "TIME", "back-fill from TIME: RFC 3339, 'now' or relative ('-24h')"},
    {"to", "TIME", "end of the back-fill (default now)"},
    {"backfill", NULL, "back-fill the last 24 hours (--from -24h unless --from is given)"},
    {"out", "FILE", "write NDJSON to FILE ('-' = stdout) instead of sending"},
    {"target", "URL", "api base URL (default http:// + api.listen)"},
    {"concurrency", "N", "HTTP requests in flight (8)"},
    {"batch", "N", "events per request, POST /plays; 1 = one POST /play each (100)"},
    {"retries", "N", "resends of a request after 503 or a failure before giving up (8)"},
    {"outcome-log", "FILE", "write each event's fate (A/R/F, event_id, region, ts, sends) to FILE"},
    {"listeners", "N", "number of listeners (default: rate x 86400 / 40, 1000 ... 1e6)"},
    {"songs", "N", "size of the song catalog (5000)"},
    {"catalog-seed", "N", "seed of the catalog and of which songs are hits (1)"},
    {"catalog", "FILE", "write the catalog as CSV to FILE ('-' = stdout) and exit"},
    {"retry-share", "P", "share of plays the client sends twice, same event_id (0.01)"},
    {"zipf", "S", "popularity exponent of the Zipf law (1.0)"},
    {"progress", NULL, "show the progress line even when stderr is not a terminal"},
    {"quiet", NULL, "print nothing but errors"},
    {NULL, NULL, NULL},
};

const char cmd_simulate_details[] =
    "Listeners in the cities of every configured region start sessions at a rate that\n"
    "follows a daily curve in their local time; songs are drawn from a Zipf law, per\n"
    "region, with some songs rising and some fading; many plays are skipped early; a\n"
    "small share is sent twice with the same event_id. The same --seed (with a fixed\n"
    "--from/--to) gives the same events. See docs/simulator.md.\n"
    "\n"
    "Modes: live to the api (default: real time; --rate 0 flat out, stamped with the\n"
    "send time); back-fill with --from/--to (default --speed 0: as fast as possible);\n"
    "NDJSON with --out. Totals go to stderr at the end. Exit status: 0; 1 when any\n"
    "event was rejected or given up; 3 when the api could not be reached at all.";

struct run {
	/* settings */
	uint64_t seed;
	long long count, duration_s, songs, catalog_seed, listeners, concurrency, batch, retries;
	double rate, speed, retry_share, zipf;
	int64_t start_us, end_us; /* end_us 0: no end */
	int live, clamp, show_progress, quiet, tty;
	/* state */
	struct sim_catalog *cat;
	struct sim_model *model;
	struct sim_send *send;
	FILE *f;
	struct dbuf line;
	uint64_t generated, duplicates;
	int64_t t0_mono, last_progress, last_ts;
	int write_errno;
};

/* ---- options ------------------------------------------------------------ */

static uint64_t clock_seed(void)
{
	uint64_t st = (uint64_t)time_now_us() ^ ((uint64_t)getpid() << 32);

	return sim_rng_splitmix(&st) % 1000000000000ULL;
}

static int parse_counts(struct cli_ctx *ctx, struct run *r)
{
	long long seed;
	int rc;

	rc = cli_opt_int(ctx, "seed", -1, 0, INT64_MAX, &seed);
	r->seed = seed < 0 ? clock_seed() : (uint64_t)seed;
	if (!rc)
		rc = cli_opt_int(ctx, "count", 0, 0, INT64_MAX, &r->count);
	if (!rc)
		rc = cli_opt_int(ctx, "duration", 0, 0, 100LL * 365 * 86400, &r->duration_s);
	if (!rc)
		rc = cli_opt_int(ctx, "songs", 5000, 1, SIM_CATALOG_MAX_SONGS, &r->songs);
	if (!rc)
		rc = cli_opt_int(ctx, "catalog-seed", 1, 0, INT64_MAX, &r->catalog_seed);
	if (!rc)
		rc = cli_opt_int(ctx, "concurrency", 8, 1, SIM_SEND_MAX_CONCURRENCY,
		                 &r->concurrency);
	if (!rc)
		rc = cli_opt_int(ctx, "batch",
		                 ctx->cfg.api_max_batch < 100 ? ctx->cfg.api_max_batch : 100, 1,
		                 ctx->cfg.api_max_batch, &r->batch);
	if (!rc)
		rc = cli_opt_int(ctx, "retries", 8, 0, 100, &r->retries);
	return rc;
}

static int parse_model(struct cli_ctx *ctx, struct run *r)
{
	double def_listeners;
	int rc;

	rc = cli_opt_double(ctx, "rate", 100, 0, SIM_MODEL_MAX_RATE, &r->rate);
	if (!rc)
		rc = cli_opt_double(ctx, "retry-share", 0.01, 0, 0.5, &r->retry_share);
	if (!rc)
		rc = cli_opt_double(ctx, "zipf", 1.0, 0, 5, &r->zipf);
	if (rc)
		return rc;
	/* About 40 plays per listener per day, as real listeners average. */
	def_listeners = (r->rate ? r->rate : 100) * 86400 / 40;
	def_listeners = def_listeners < 1000 ? 1000 : def_listeners > 1e6 ? 1e6 : def_listeners;
	return cli_opt_int(ctx, "listeners", (long long)def_listeners, 1, SIM_MODEL_MAX_LISTENERS,
	                   &r->listeners);
}

/* --from/--to: a back-fill; otherwise live from now. */
static int parse_range(struct cli_ctx *ctx, struct run *r, int64_t now)
{
	const char *from = cli_opt(ctx, "from"), *to = cli_opt(ctx, "to");
	struct ts_err err;

	/* The api keeps a week; a day is what a fresh dashboard wants. */
	if (!from && cli_flag(ctx, "backfill"))
		from = "-24h";

	r->live = !from;
	r->start_us = now;
	if (!from && to) {
		cli_error(ctx, "--to needs --from");
		return TS_EINVAL;
	}
	if (from && sim_when_parse(from, now, &r->start_us, &err)) {
		cli_error(ctx, "--from: %s", err.msg);
		return TS_EINVAL;
	}
	if (from && sim_when_parse(to ? to : "now", now, &r->end_us, &err)) {
		cli_error(ctx, "--to: %s", err.msg);
		return TS_EINVAL;
	}
	if (from && r->end_us <= r->start_us) {
		cli_error(ctx, "--from must be before --to");
		return TS_EINVAL;
	}
	return 0;
}

/* Pacing: live sends in real time; back-fills and files go flat out. */
static int parse_pacing(struct cli_ctx *ctx, struct run *r)
{
	int to_api = !cli_opt(ctx, "out");
	double def = r->live && to_api && r->rate > 0 ? 1 : 0;
	int rc = cli_opt_double(ctx, "speed", def, 0, 1e6, &r->speed);

	if (rc)
		return rc;
	if (r->rate == 0 && !r->live) {
		cli_error(ctx, "--rate 0 (flat out) is for live runs; a back-fill needs a rate, "
		               "use --speed 0 to go flat out");
		return TS_EINVAL;
	}
	if (r->rate == 0) {
		r->rate = 100; /* the model still needs an intensity */
		r->speed = 0;
	}
	/* Live plays must not run ahead of the clock: the api rejects the future. */
	r->clamp = r->live && to_api && r->speed != 1;
	return 0;
}

static int check_age(struct cli_ctx *ctx, struct run *r, int64_t now)
{
	if (r->live || cli_opt(ctx, "out"))
		return 0;
	if (r->start_us < now - ctx->cfg.event_max_age_s * TIME_US_PER_SEC) {
		cli_error(ctx,
		          "--from is more than event.max-age-s (%lld s) ago: the api would "
		          "reject those plays",
		          (long long)ctx->cfg.event_max_age_s);
		return TS_EINVAL;
	}
	if (r->end_us > now + ctx->cfg.event_max_future_s * TIME_US_PER_SEC) {
		cli_error(ctx, "--to is too far in the future: the api would reject those plays");
		return TS_EINVAL;
	}
	return 0;
}

static int parse_options(struct cli_ctx *ctx, struct run *r)
{
	int64_t now = time_now_us();
	int rc;

	rc = parse_counts(ctx, r);
	if (!rc)
		rc = parse_model(ctx, r);
	if (!rc)
		rc = parse_range(ctx, r, now);
	if (!rc)
		rc = parse_pacing(ctx, r);
	if (!rc)
		rc = check_age(ctx, r, now);
	if (!rc && cli_opt(ctx, "out") && cli_opt(ctx, "target")) {
		cli_error(ctx, "--out and --target exclude each other");
		rc = TS_EINVAL;
	}
	r->quiet = cli_flag(ctx, "quiet");
	r->tty = isatty(STDERR_FILENO);
	r->show_progress = !r->quiet && (r->tty || cli_flag(ctx, "progress"));
	/* On a terminal with JSON logs (--log-format json) no line is drawn. */
	progress_setup(r->show_progress);
	if (r->tty && !progress_enabled())
		r->show_progress = 0;
	return rc;
}

/* ---- set-up ------------------------------------------------------------- */

static FILE *open_out(struct cli_ctx *ctx, const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "w") : stdout;

	if (!f)
		cli_error(ctx, "%s: %s", path, strerror(errno));
	return f;
}

static int close_out(FILE *f)
{
	int rc = fflush(f);

	if (f != stdout)
		rc |= fclose(f);
	return rc;
}

static int write_catalog(struct cli_ctx *ctx, struct run *r, const char *path)
{
	struct ts_err err;
	FILE *f = open_out(ctx, path);
	int rc;

	if (!f)
		return EXIT_FAILURE_;
	rc = sim_catalog_write_csv(r->cat, f, &err);
	if (close_out(f) && !rc)
		rc = ts_err_set(&err, TS_EIO, "%s: %s", path, strerror(errno));
	if (rc) {
		cli_error(ctx, "%s", err.msg);
		return EXIT_FAILURE_;
	}
	if (!r->quiet)
		fprintf(stderr, "simulate: wrote %lld songs to %s\n", r->songs, path);
	return EXIT_OK;
}

static int make_model(struct cli_ctx *ctx, struct run *r)
{
	struct sim_model_opts mo;
	struct ts_err err;

	sim_model_opts_default(&mo);
	mo.seed = r->seed;
	mo.rate = r->rate;
	mo.listeners = (uint32_t)r->listeners;
	mo.zipf_s = r->zipf;
	mo.retry_share = r->retry_share;
	mo.start_us = r->start_us;
	mo.regions = ctx->cfg.regions;
	if (sim_model_new(&mo, r->cat, &r->model, &err)) {
		cli_error(ctx, "%s", err.msg);
		return TS_EINVAL;
	}
	return 0;
}

static int make_sender(struct cli_ctx *ctx, struct run *r)
{
	const char *target = cli_opt(ctx, "target");
	struct sim_send_opts so;
	struct ts_err err;
	struct dbuf url;
	int rc;

	dbuf_init(&url, 4096);
	if (!target && !dbuf_addf(&url, "http://%s", ctx->cfg.api_listen))
		target = dbuf_str(&url);
	sim_send_opts_default(&so);
	so.target = target;
	so.concurrency = (int)r->concurrency;
	so.batch = (int)r->batch;
	so.max_retries = (int)r->retries;
	so.max_body = (size_t)ctx->cfg.api_max_body;
	so.cancel = &cli_stop_requested;
	so.outcome_log = cli_opt(ctx, "outcome-log");
	rc = sim_send_new(&so, &r->send, &err);
	if (rc)
		cli_error(ctx, "%s", err.msg);
	dbuf_release(&url);
	return rc;
}

static int make_sink(struct cli_ctx *ctx, struct run *r)
{
	const char *out = cli_opt(ctx, "out");

	dbuf_init(&r->line, 1 << 16);
	if (!out)
		return make_sender(ctx, r);
	r->f = open_out(ctx, out);
	if (!r->f)
		return TS_EIO;
	setvbuf(r->f, NULL, _IOFBF, 1 << 20);
	return 0;
}

/* ---- progress and totals ------------------------------------------------ */

static void totals_line(struct run *r, struct dbuf *b)
{
	double secs = (double)(time_mono_us() - r->t0_mono) / 1e6;
	char ts[40] = "-";

	if (r->generated)
		time_format_rfc3339_ms(r->last_ts, ts, sizeof(ts));
	dbuf_addf(b, "generated=%llu duplicates=%llu", (unsigned long long)r->generated,
	          (unsigned long long)r->duplicates);
	if (r->send) {
		struct sim_send_stats st;

		sim_send_get_stats(r->send, &st);
		dbuf_addf(b, " sent=%llu accepted=%llu rejected=%llu retried=%llu failed=%llu",
		          (unsigned long long)st.sent, (unsigned long long)st.accepted,
		          (unsigned long long)st.rejected, (unsigned long long)st.retried,
		          (unsigned long long)st.failed);
	}
	dbuf_addf(b, " rate=%.0f/s elapsed=%.1fs event_time=%s", secs > 0 ? r->generated / secs : 0,
	          secs, ts);
}

/* Four times a second on a terminal, once a second otherwise. */
static void progress(struct run *r)
{
	int64_t now = time_mono_us();
	struct dbuf b;

	if (!r->show_progress || now - r->last_progress < (r->tty ? 250000 : 1000000))
		return;
	r->last_progress = now;
	dbuf_init(&b, 4096);
	dbuf_addstr(&b, "simulate: ");
	if (r->end_us > r->start_us && r->generated) /* a back-fill: how far through */
		dbuf_addf(&b, "%.0f%% ",
		          100.0 * (double)(r->last_ts - r->start_us) /
		              (double)(r->end_us - r->start_us));
	totals_line(r, &b);
	if (progress_enabled())
		progress_show(dbuf_str(&b));
	else if (!r->tty)
		fprintf(stderr, "%s\n", dbuf_str(&b));
	dbuf_release(&b);
}

static int report(struct run *r, int stopped)
{
	struct sim_send_stats st = {0};
	struct dbuf b;

	progress_erase();
	if (r->send)
		sim_send_get_stats(r->send, &st);
	if (!r->quiet) {
		dbuf_init(&b, 4096);
		totals_line(r, &b);
		fprintf(stderr, "simulate: %s%s seed=%llu\n", stopped ? "stopped " : "",
		        dbuf_str(&b), (unsigned long long)r->seed);
		dbuf_release(&b);
	}
	if (r->send && st.last_error[0] && (st.rejected || st.failed || st.in_flight))
		fprintf(stderr, "simulate: last error: %s\n", st.last_error);
	if (st.log_errors) {
		fprintf(stderr, "simulate: %llu lines of the outcome log could not be written\n",
		        (unsigned long long)st.log_errors);
		return EXIT_FAILURE_;
	}
	/* Nothing got through and something went wrong: the api is not there. */
	if (r->send && !st.accepted && (st.failed || st.in_flight) && st.last_error[0])
		return EXIT_UNAVAILABLE;
	return st.rejected || st.failed || st.in_flight ? EXIT_FAILURE_ : EXIT_OK;
}

/* ---- the loop ----------------------------------------------------------- */

static void nap(struct run *r, int64_t us)
{
	struct timespec ts = {(time_t)(us / 1000000), (long)(us % 1000000) * 1000};

	if (r->send)
		sim_send_poll(r->send, (int)((us + 999) / 1000), NULL);
	else
		nanosleep(&ts, NULL);
}

/* Waits until event time t is due on the wall clock: 0 when it is, 1 when
 * stopped by a signal, 2 when --duration ran out first. */
static int wait_due(struct run *r, int64_t t)
{
	int64_t due = r->t0_mono + (int64_t)((double)(t - r->start_us) / r->speed);
	int64_t end = r->duration_s ? r->t0_mono + r->duration_s * TIME_US_PER_SEC : INT64_MAX;

	for (;;) {
		int64_t now = time_mono_us(), left = due - now;

		if (cli_stop_requested)
			return 1;
		if (left <= 0)
			return 0;
		if (now >= end)
			return 2;
		nap(r, left < 100000 ? left : 100000);
		progress(r);
	}
}

/* A broken pipe (`| head`) ends the run quietly; other errors are errors. */
static int write_line(struct cli_ctx *ctx, struct run *r)
{
	if (dbuf_addc(&r->line, '\n') == 0 &&
	    fwrite(r->line.buf, 1, r->line.len, r->f) == r->line.len)
		return 0;
	r->write_errno = errno;
	if (errno != EPIPE)
		cli_error(ctx, "writing events: %s", strerror(errno));
	return TS_EIO;
}

static int emit(struct cli_ctx *ctx, struct run *r, struct sim_event *ev)
{
	struct ts_err err;
	int rc;

	if (r->clamp) {
		int64_t now = time_now_us();

		if (ev->ts_us > now)
			ev->ts_us = now;
	}
	dbuf_reset(&r->line);
	rc = sim_event_json(ev, &r->line);
	if (rc) {
		cli_error(ctx, "formatting an event: %s", ts_code_name(rc));
		return rc;
	}
	r->generated++;
	r->duplicates += ev->duplicate;
	r->last_ts = ev->ts_us;
	if (!r->send)
		return write_line(ctx, r);
	rc = sim_send_add(r->send, r->line.buf, r->line.len, &err);
	if (rc)
		cli_error(ctx, "%s", err.msg);
	return rc;
}

static int done(const struct run *r)
{
	if (r->count && r->generated >= (uint64_t)r->count)
		return 1;
	if (r->duration_s && time_mono_us() - r->t0_mono >= r->duration_s * TIME_US_PER_SEC)
		return 1;
	return r->end_us && sim_model_peek_us(r->model) >= r->end_us;
}

static int loop(struct cli_ctx *ctx, struct run *r, int *stopped)
{
	struct sim_event ev;
	struct ts_err err;
	int rc = 0;

	r->t0_mono = time_mono_us();
	r->last_progress = r->t0_mono;
	while (!rc && !done(r)) {
		int w = r->speed > 0 ? wait_due(r, sim_model_peek_us(r->model)) : 0;

		if (w == 2)
			break;
		if (w == 1 || cli_stop_requested) {
			*stopped = 1;
			break;
		}
		rc = sim_model_next(r->model, &ev, &err);
		if (rc) {
			cli_error(ctx, "%s", err.msg);
			break;
		}
		rc = emit(ctx, r, &ev);
		if ((r->generated & 255) == 0) {
			if (r->send)
				sim_send_poll(r->send, 0, NULL);
			progress(r);
		}
	}
	return rc;
}

/* Waits for the api's answers: up to two minutes, three seconds after a
 * signal, and a signal during the wait cuts it short. */
static int drain_sender(struct cli_ctx *ctx, struct run *r, int stopped)
{
	int64_t end = time_mono_us() + (stopped ? 3 : 120) * TIME_US_PER_SEC;
	struct ts_err err;

	for (;;) {
		int64_t step = time_mono_us() + 200000;
		int rc = sim_send_flush(r->send, step < end ? step : end, &err);

		if (rc != TS_ETIMEDOUT)
			return rc;
		if (time_mono_us() >= end || (!stopped && cli_stop_requested)) {
			cli_error(ctx, "%s", err.msg);
			return rc;
		}
		progress(r);
	}
}

static int finish(struct cli_ctx *ctx, struct run *r, int stopped)
{
	if (r->send)
		return drain_sender(ctx, r, stopped);
	if (close_out(r->f) && errno != EPIPE && !r->write_errno) {
		r->f = NULL;
		cli_error(ctx, "writing events: %s", strerror(errno));
		return TS_EIO;
	}
	r->f = NULL;
	return 0;
}

static int simulate(struct cli_ctx *ctx, struct run *r)
{
	int rc, stopped = 0, failed;

	if (make_model(ctx, r))
		return EXIT_USAGE;
	rc = make_sink(ctx, r);
	if (rc)
		return rc == TS_EINVAL ? EXIT_USAGE : EXIT_FAILURE_;
	cli_install_signals();
	rc = loop(ctx, r, &stopped);
	if (rc == TS_EIO && r->write_errno == EPIPE)
		rc = 0;
	failed = finish(ctx, r, stopped) || rc;
	rc = report(r, stopped);
	return failed && rc == EXIT_OK ? EXIT_FAILURE_ : rc;
}

int cmd_simulate(struct cli_ctx *ctx)
{
	const char *catalog = cli_opt(ctx, "catalog");
	struct run r;
	struct ts_err err;
	int rc;

	memset(&r, 0, sizeof(r));
	if (parse_options(ctx, &r))
		return EXIT_USAGE;
	if (sim_catalog_new((uint64_t)r.catalog_seed, (uint32_t)r.songs, &r.cat, &err)) {
		cli_error(ctx, "%s", err.msg);
		return EXIT_FAILURE_;
	}
	if (catalog)
		rc = write_catalog(ctx, &r, catalog);
	else
		rc = simulate(ctx, &r);
	if (r.f)
		close_out(r.f);
	sim_send_free(r.send);
	sim_model_free(r.model);
	sim_catalog_free(r.cat);
	dbuf_release(&r.line);
	return rc;
}
