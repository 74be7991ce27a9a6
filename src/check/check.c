/*
 * The probe table and the concurrent runner of `topsongs check`; see check.h.
 *
 * Each probe runs on a detached thread that shares one reference-counted
 * `struct check_run` with the caller. A probe that finishes in time copies
 * its result into the run; the caller waits on a condition variable until
 * every probe is done or the deadline passes, copies what it has, reports
 * the rest as timed out and drops its reference. Whoever drops the last
 * reference frees the run, including the private copy of the configuration,
 * so a straggler never touches memory the caller has already released.
 */
#include "base/common.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "check/check.h"
#include "check/check_api.h"
#include "check/check_kafka.h"
#include "check/check_lake.h"
#include "check/check_pg.h"
#include "check/check_scheduler.h"

#include <errno.h>
#include <pthread.h>
#include <time.h>

const struct check_probe check_probes[] = {
    {"postgres", check_pg_probe, NULL},          /* SELECT 1 */
    {"kafka", check_kafka_probe, NULL},          /* cluster metadata */
    {"lake", check_lake_probe, NULL},            /* write, fsync, read back */
    {"api", check_api_probe, check_api_prepare}, /* GET /healthz */
    {"scheduler", check_scheduler_probe, NULL},  /* heartbeat row */
};

const size_t check_nprobes = ARRAY_SIZE(check_probes);

struct check_run {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int refs;
	size_t ndone;
	int64_t timeout_ms;
	struct ts_config cfg; /* private copy: outlives the caller's */
	const struct check_probe *probes;
	int done[CHECK_MAX_PROBES];
	struct check_result results[CHECK_MAX_PROBES];
};

struct check_job {
	struct check_run *run;
	size_t index;
};

static int name_index(const char *name, size_t len, const struct check_probe *probes, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(probes[i].name) == len && !memcmp(probes[i].name, name, len))
			return (int)i;
	return -1;
}

int check_required_parse(const char *list, const struct check_probe *probes, size_t n,
                         uint32_t *mask, struct ts_err *err)
{
	*mask = 0;
	for (const char *p = list ? list : ""; *p;) {
		size_t len = strcspn(p, ",");
		const char *next = p + len + (p[len] == ',');
		int i;

		while (len && (*p == ' ' || *p == '\t'))
			p++, len--;
		while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len) {
			i = name_index(p, len, probes, n);
			if (i < 0)
				return ts_err_set(err, TS_EINVAL,
				                  "check.required: unknown service '%.*s'",
				                  (int)len, p);
			*mask |= 1u << i;
		}
		p = next;
	}
	return 0;
}

/* Copies every string of cfg so the copy owns its memory. */
static int copy_config(struct ts_config *dst, const struct ts_config *src)
{
	*dst = *src;
	for (size_t i = 0; i < config_nkeys; i++) {
		char **slot = (char **)((char *)dst + config_keys[i].offset);

		if (config_keys[i].type != CONFIG_STR || !*slot)
			continue;
		*slot = strdup(*slot);
		if (!*slot) {
			/* Later slots still point into src: clear them before releasing. */
			for (size_t j = i + 1; j < config_nkeys; j++)
				if (config_keys[j].type == CONFIG_STR)
					*(char **)((char *)dst + config_keys[j].offset) = NULL;
			config_release(dst);
			return TS_ENOMEM;
		}
	}
	return 0;
}

static void run_free(struct check_run *run)
{
	config_release(&run->cfg);
	pthread_cond_destroy(&run->cv);
	pthread_mutex_destroy(&run->mu);
	free(run);
}

/* Drops one reference; the caller holds run->mu, which this releases. */
static void run_unref_unlock(struct check_run *run)
{
	int last = --run->refs == 0;

	pthread_mutex_unlock(&run->mu);
	if (last)
		run_free(run);
}

static void *job_main(void *arg)
{
	struct check_job job = *(struct check_job *)arg;
	struct check_run *run = job.run;
	const struct check_probe *p = &run->probes[job.index];
	struct check_result res;
	int64_t start = time_mono_us();

	free(arg);
	memset(&res, 0, sizeof(res));
	p->probe(&run->cfg, run->timeout_ms, &res);
	res.latency_us = time_mono_us() - start;
	log_debug("check probe finished", "service=%s status=%s latency_us=%lld", p->name,
	          check_result_status_name(res.status), (long long)res.latency_us);
	pthread_mutex_lock(&run->mu);
	run->results[job.index] = res;
	run->done[job.index] = 1;
	run->ndone++;
	pthread_cond_broadcast(&run->cv);
	run_unref_unlock(run);
	return NULL;
}

static int run_new(const struct ts_config *cfg, const struct check_probe *probes,
                   int64_t timeout_ms, struct check_run **out)
{
	struct check_run *run = calloc(1, sizeof(*run));
	pthread_condattr_t ca;

	if (!run)
		return TS_ENOMEM;
	if (copy_config(&run->cfg, cfg)) {
		free(run);
		return TS_ENOMEM;
	}
	pthread_mutex_init(&run->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&run->cv, &ca);
	pthread_condattr_destroy(&ca);
	run->refs = 1;
	run->probes = probes;
	run->timeout_ms = timeout_ms;
	*out = run;
	return 0;
}

/* Starts probe i on a detached thread holding its own reference. Returns 0
 * or an errno value. */
static int start_job(struct check_run *run, size_t i)
{
	struct check_job *job = malloc(sizeof(*job));
	pthread_attr_t attr;
	pthread_t tid;
	int rc;

	if (!job)
		return ENOMEM;
	job->run = run;
	job->index = i;
	pthread_mutex_lock(&run->mu);
	run->refs++;
	pthread_mutex_unlock(&run->mu);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&tid, &attr, job_main, job);
	pthread_attr_destroy(&attr);
	if (rc) {
		free(job);
		pthread_mutex_lock(&run->mu);
		run->refs--;
		pthread_mutex_unlock(&run->mu);
	}
	return rc;
}

static void wait_until(struct check_run *run, size_t n, int64_t deadline_us)
{
	while (run->ndone < n) {
		struct timespec ts;

		/* time_mono_us is CLOCK_MONOTONIC, the clock of run->cv. */
		if (time_mono_us() >= deadline_us)
			return;
		ts.tv_sec = (time_t)(deadline_us / TIME_US_PER_SEC);
		ts.tv_nsec = (long)(deadline_us % TIME_US_PER_SEC) * 1000;
		pthread_cond_timedwait(&run->cv, &run->mu, &ts);
	}
}

/* Copies finished results out and reports the others as timed out. */
static void collect(struct check_run *run, size_t n, int64_t waited_us,
                    struct check_result *results)
{
	for (size_t i = 0; i < n; i++) {
		if (run->done[i]) {
			results[i] = run->results[i];
			continue;
		}
		memset(&results[i], 0, sizeof(results[i]));
		results[i].latency_us = waited_us;
		check_result_fail(&results[i], TS_ETIMEDOUT,
		                  "no answer within %lld ms (the probe is stuck: a slow DNS "
		                  "lookup or a hung disk?)",
		                  (long long)run->timeout_ms);
	}
}

static void start_all(struct check_run *run, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int rc = start_job(run, i);

		if (rc == 0)
			continue;
		/* Counted as done so nobody waits for it; reported as failed. */
		pthread_mutex_lock(&run->mu);
		check_result_fail(&run->results[i], TS_EIO, "could not start a thread: %s",
		                  strerror(rc));
		run->done[i] = 1;
		run->ndone++;
		pthread_mutex_unlock(&run->mu);
	}
}

int check_run_probes(const struct ts_config *cfg, const struct check_probe *probes, size_t n,
                     uint32_t required_mask, int64_t timeout_ms, struct check_result *results,
                     struct ts_err *err)
{
	struct check_run *run = NULL;
	int64_t start;
	int rc;

	if (n > CHECK_MAX_PROBES)
		BUG("%zu probes, at most %d", n, CHECK_MAX_PROBES);
	rc = run_new(cfg, probes, timeout_ms, &run);
	if (rc)
		return ts_err_set(err, rc, "out of memory");
	for (size_t i = 0; i < n; i++)
		if (probes[i].prepare)
			probes[i].prepare();
	start = time_mono_us();
	start_all(run, n);
	pthread_mutex_lock(&run->mu);
	wait_until(run, n, start + (timeout_ms + CHECK_GRACE_MS) * 1000);
	collect(run, n, time_mono_us() - start, results);
	run_unref_unlock(run);
	for (size_t i = 0; i < n; i++) {
		results[i].name = probes[i].name;
		results[i].required = (required_mask >> i) & 1;
	}
	return check_all_required_ok(results, n) ? 0 : TS_EUNAVAIL;
}

int check_run(const struct ts_config *cfg, struct check_result *results, struct ts_err *err)
{
	uint32_t mask;
	int rc;

	rc = check_required_parse(cfg->check_required, check_probes, check_nprobes, &mask, err);
	if (rc)
		return rc;
	return check_run_probes(cfg, check_probes, check_nprobes, mask, cfg->check_timeout_ms,
	                        results, err);
}

int check_all_required_ok(const struct check_result *results, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (results[i].required && results[i].status != CHECK_OK)
			return 0;
	return 1;
}
