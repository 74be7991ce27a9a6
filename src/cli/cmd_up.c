/*
 * `topsongs up`: the whole pipeline on one machine, supervised — api,
 * ingest, scheduler and the simulator (after a one-time back-fill of the
 * last 24 hours, so every chart has history). A child that dies is
 * restarted with back-off and reported; SIGINT or SIGTERM stops them all,
 * newest first. The services they use (PostgreSQL, Kafka, the lake) must be
 * reachable: `make run` starts local ones first (scripts/run.sh).
 */
#include "base/common.h"
#include "base/fsutil.h"
#include "base/timeutil.h"
#include "cli/commands.h"
#include "sup/sup.h"

#include <curl/curl.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

const struct cli_opt cmd_up_opts[] = {
    {"state", "DIR", "logs and markers go under DIR (default var): DIR/log/NAME.log"},
    {"rate", "R", "plays per second the simulator sends, daily mean (20)"},
    {"no-simulate", NULL, "no simulator: real traffic only"},
    {"no-backfill", NULL, "skip the one-time back-fill of the last 24 hours"},
    {NULL, NULL, NULL},
};

const char cmd_up_details[] =
    "Starts api, ingest, scheduler and (unless --no-simulate) the simulator, which\n"
    "first back-fills the last 24 hours at full speed, once per state folder, then\n"
    "plays live; with the simulator, the simulator's song catalog is loaded into\n"
    "PostgreSQL first (topsongs catalog load). A child that exits is restarted\n"
    "after 0.5 s, doubling up to 30 s. Ctrl-C stops every child (SIGTERM, then\n"
    "SIGKILL after 15 s) and exits 0.\n"
    "Exit status 3 when the api does not become healthy.";

struct up {
	char base_url[300];
	char exe[4096];
	char state[2048];
};

static void on_event(enum sup_event ev, const char *name, pid_t pid, int status, void *arg)
{
	(void)arg;
	switch (ev) {
	case SUP_STARTED:
		fprintf(stderr, "up: %s started (pid %d)\n", name, (int)pid);
		break;
	case SUP_EXITED:
		if (WIFSIGNALED(status))
			fprintf(stderr, "up: %s (pid %d) killed by signal %d\n", name, (int)pid,
			        WTERMSIG(status));
		else if (WEXITSTATUS(status))
			fprintf(stderr, "up: %s (pid %d) exited with status %d\n", name, (int)pid,
			        WEXITSTATUS(status));
		break;
	case SUP_RESTARTING:
		fprintf(stderr, "up: restarting %s in %.1f s\n", name, status / 1000.0);
		break;
	case SUP_DONE:
		fprintf(stderr, "up: %s finished\n", name);
		break;
	case SUP_STOPPED:
		fprintf(stderr, "up: %s stopped\n", name);
		break;
	}
}

/* http://HOST:PORT of api.listen, with a wildcard host made reachable. */
static void base_url(const char *listen, char *out, size_t size)
{
	if (!strncmp(listen, "0.0.0.0:", 8))
		snprintf(out, size, "http://127.0.0.1:%s", listen + 8);
	else if (!strncmp(listen, "[::]:", 5))
		snprintf(out, size, "http://[::1]:%s", listen + 5);
	else
		snprintf(out, size, "http://%s", listen);
}

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

static bool healthy(const char *base)
{
	char url[400];
	long code = 0;
	CURL *c = curl_easy_init();

	if (!c)
		return false;
	snprintf(url, sizeof(url), "%s/healthz", base);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 1000L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(c);
	return code == 200;
}

/* Runs the oneshot child name to completion (restarted with back-off when
 * it fails), for at most timeout_s; false when it never finished. */
static bool run_to_end(struct sup *s, const char *name, int timeout_s)
{
	int64_t until = time_mono_us() + (int64_t)timeout_s * TIME_US_PER_SEC;
	int running;

	while (!cli_stop_requested && !sup_done(s, name) && time_mono_us() < until)
		if (sup_poll(s, 200, &running, NULL))
			break;
	return sup_done(s, name);
}

/* Until the api answers /healthz (30 s), while it runs and no stop came. */
static bool wait_api(struct sup *s, const struct up *u)
{
	int running;

	for (int i = 0; i < 150 && !cli_stop_requested; i++) {
		if (healthy(u->base_url))
			return true;
		if (sup_poll(s, 200, &running, NULL) || !sup_pid(s, "api"))
			break;
	}
	return false;
}

static int start(struct sup *s, const struct up *u, const char *name, bool oneshot,
                 const char *const *args, struct ts_err *err)
{
	struct sup_spec spec = {.name = name, .oneshot = oneshot};
	int n = 0;

	spec.argv[n++] = u->exe;
	for (; args[n - 1] && n < SUP_MAX_ARGS - 1; n++)
		spec.argv[n] = args[n - 1];
	spec.argv[n] = NULL;
	return sup_start(s, &spec, err);
}

static int start_simulator(struct sup *s, const struct up *u, const char *rate, bool backfill,
                           struct ts_err *err)
{
	const char *live[] = {"simulate", "--target", u->base_url, "--rate", rate, NULL};
	const char *fill[] = {"simulate", "--backfill", "--target", u->base_url,
	                      "--rate",   rate,         "--quiet",  NULL};
	int rc = 0;

	if (backfill)
		rc = start(s, u, "backfill", true, fill, err);
	return rc ? rc : start(s, u, "simulate", false, live, err);
}

static void banner(const struct cli_ctx *ctx, const struct up *u, bool simulate, const char *rate)
{
	fprintf(stderr,
	        "\n  Top Songs is running.\n"
	        "    dashboard    %s/\n"
	        "    api          %s   (POST /play, /plays; GET /api/..., /healthz, /metrics)\n"
	        "    ingest       plays -> %s/raw/ (metrics http://%s/metrics)\n"
	        "    scheduler    flows enrich, aggregate -> PostgreSQL charts\n"
	        "    simulator    %s%s\n"
	        "    logs         %s/log/\n"
	        "  Press Ctrl-C to stop everything.\n\n",
	        u->base_url, u->base_url, ctx->cfg.lake_url, ctx->cfg.ingest_metrics_listen,
	        simulate ? rate : "off (--no-simulate)", simulate ? " plays/s" : "", u->state);
}

static int prepare(struct cli_ctx *ctx, struct up *u, struct ts_err *err)
{
	char logs[2100];
	const char *state = cli_opt(ctx, "state") ? cli_opt(ctx, "state") : "var";
	ssize_t n = readlink("/proc/self/exe", u->exe, sizeof(u->exe) - 1);

	if (n <= 0)
		return ts_err_set(err, TS_EIO, "cannot find this program's path");
	u->exe[n] = '\0';
	snprintf(u->state, sizeof(u->state), "%s", state);
	snprintf(logs, sizeof(logs), "%s/log", state);
	base_url(ctx->cfg.api_listen, u->base_url, sizeof(u->base_url));
	/* The api's journal of 202s keeps the ledger exact through a SIGKILL
	 * of the api; the supervisor's restart recovers it. */
	if (!*ctx->cfg.api_journal_dir) {
		char journal[2100];
		snprintf(journal, sizeof(journal), "%s/api-journal", state);
		if (config_set(&ctx->cfg, "api.journal-dir", journal, "topsongs up", err))
			return err->code;
	}
	/* Children see this process's configuration, flags included. */
	return fs_mkdirs(logs, err) ? ts_err_wrap(err, "state folder")
	                            : config_export_env(&ctx->cfg, err);
}

static int run(struct cli_ctx *ctx, struct sup *s, const struct up *u, struct ts_err *err)
{
	static const char *const api[] = {"api", NULL}, *const ingest[] = {"ingest", NULL},
	                         *const scheduler[] = {"scheduler", NULL},
	                         *const catalog[] = {"catalog", "load", NULL};
	const char *rate = cli_opt(ctx, "rate") ? cli_opt(ctx, "rate") : "20";
	bool simulate = !cli_flag(ctx, "no-simulate");
	char marker[2100];
	bool backfill;
	int rc, running;

	snprintf(marker, sizeof(marker), "%s/backfill.done", u->state);
	backfill = simulate && !cli_flag(ctx, "no-backfill") && !fs_exists(marker);
	rc = start(s, u, "api", false, api, err);
	if (!rc && !wait_api(s, u))
		return cli_stop_requested ? 0
		                          : ts_err_set(err, TS_EUNAVAIL,
		                                       "the api did not become healthy at %s; see "
		                                       "%s/log/api.log",
		                                       u->base_url, u->state);
	rc = rc ? rc : start(s, u, "ingest", false, ingest, err);
	/* The simulator's songs must be in the catalog before the first enrich
	 * run, or its plays would be enriched as unknown songs. */
	rc = rc || !simulate ? rc : start(s, u, "catalog", true, catalog, err);
	if (!rc && simulate && !run_to_end(s, "catalog", 120))
		return cli_stop_requested ? 0
		                          : ts_err_set(err, TS_EUNAVAIL,
		                                       "the song catalog could not be loaded; see "
		                                       "%s/log/catalog.log",
		                                       u->state);
	rc = rc ? rc : start(s, u, "scheduler", false, scheduler, err);
	rc = rc || !simulate ? rc : start_simulator(s, u, rate, backfill, err);
	if (!rc)
		banner(ctx, u, simulate, rate);
	while (!rc && !cli_stop_requested) {
		rc = sup_poll(s, 250, &running, err);
		if (backfill && sup_done(s, "backfill")) {
			FILE *f = fopen(marker, "w");

			if (f)
				fclose(f);
			backfill = false;
		}
	}
	return rc;
}

int cmd_up(struct cli_ctx *ctx)
{
	struct sup *s = NULL;
	struct up u;
	struct ts_err err;
	int rc;

	cli_install_signals();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = prepare(ctx, &u, &err);
	if (!rc) {
		char logs[2100];

		snprintf(logs, sizeof(logs), "%s/log", u.state);
		rc = sup_new(logs, on_event, NULL, &s, &err);
	}
	rc = rc ? rc : run(ctx, s, &u, &err);
	if (s) {
		fprintf(stderr, "up: stopping\n");
		sup_stop_all(s, 15000);
	}
	sup_free(s);
	curl_global_cleanup();
	if (rc) {
		cli_error(ctx, "%s", err.msg);
		return rc == TS_EUNAVAIL ? EXIT_UNAVAILABLE : EXIT_FAILURE_;
	}
	fprintf(stderr, "up: stopped\n");
	return EXIT_OK;
}
