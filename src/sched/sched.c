/*
 * The scheduler loop and its planning functions; see sched.h.
 *
 * One thread (this loop) owns the slots and a control connection for the
 * heartbeat and the sweep; each run gets a worker thread that calls
 * sched_run and sets `done` when it returns. The loop wakes every
 * TICK_MS to start due runs and collect finished ones.
 */
#include "base/common.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "db/db.h"
#include "sched/sched.h"

#include <errno.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#define TICK_MS     50
#define SWEEP_MAX   16
#define NOT_RUNNING "the scheduler stopped before the run finished"

struct sched_worker {
	const struct ts_config *cfg;
	struct sched_run_req req;
	char scope[SCHED_SCOPE_MAX];
	char owner[SCHED_OWNER_MAX];
	struct sched_run_result res;
	struct ts_err err;
	int rc;
	atomic_int done;
	pthread_t thread;
};

void sched_instance_name(const struct ts_config *cfg, char *out, size_t size)
{
	char host[128] = "localhost";

	if (cfg->scheduler_instance_id[0]) {
		snprintf(out, size, "%s", cfg->scheduler_instance_id);
		return;
	}
	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	snprintf(out, size, "%s:%d", host, (int)getpid());
}

/* ---- planning ---- */

/* The schedule text for flow `name` in overrides, or NULL; TS_EINVAL for a
 * pair without '=' or naming no flow of the table. */
static int find_override(const char *overrides, const struct flow_def *flows, size_t n,
                         const char *name, char *out, size_t size, int *found, struct ts_err *err)
{
	const char *p = overrides;

	*found = 0;
	while (*p) {
		size_t len = strcspn(p, ";"), nlen;
		const char *eq;
		int known = 0;

		while (len && (*p == ' ' || *p == '\t')) {
			p++;
			len--;
		}
		if (!len) {
			p += *p ? 1 : 0;
			continue;
		}
		eq = memchr(p, '=', len);
		nlen = eq ? (size_t)(eq - p) : 0;
		while (nlen && p[nlen - 1] == ' ')
			nlen--;
		for (size_t i = 0; eq && i < n; i++)
			known |= strlen(flows[i].name) == nlen && !memcmp(flows[i].name, p, nlen);
		if (!known)
			return ts_err_set(err, TS_EINVAL,
			                  "scheduler.schedules: '%.*s' is not FLOW=SCHEDULE for a "
			                  "known flow",
			                  (int)(len > 80 ? 80 : len), p);
		if (nlen == strlen(name) && !memcmp(p, name, nlen)) {
			const char *v = eq + 1, *end = p + len;

			while (v < end && (*v == ' ' || *v == '\t'))
				v++;
			while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
				end--;
			if ((size_t)(end - v) >= size)
				return ts_err_set(err, TS_EINVAL,
				                  "scheduler.schedules: %s: too long", name);
			snprintf(out, size, "%.*s", (int)(end - v), v);
			*found = 1;
		}
		p += len + (p[len] ? 1 : 0);
	}
	return 0;
}

int sched_slots_init(struct sched_slot *slots, const struct flow_def *flows, size_t n,
                     const char *overrides, struct ts_err *err)
{
	for (size_t i = 0; i < n; i++) {
		struct sched_slot *s = &slots[i];
		int found, rc;

		memset(s, 0, sizeof(*s));
		s->flow = &flows[i];
		rc = find_override(overrides, flows, n, flows[i].name, s->schedule_text,
		                   sizeof(s->schedule_text), &found, err);
		if (rc)
			return rc;
		if (!found)
			snprintf(s->schedule_text, sizeof(s->schedule_text), "%s",
			         flows[i].default_schedule ? flows[i].default_schedule : "off");
		if (sched_schedule_parse(s->schedule_text, &s->schedule, err))
			return ts_err_wrap(err, "schedule of flow %s ('%s')", flows[i].name,
			                   s->schedule_text);
	}
	return 0;
}

static void plan(struct sched_slot *slot, int64_t due_us, const char *trigger, int attempt,
                 int64_t done_since_us)
{
	slot->pending = 1;
	slot->due_us = due_us;
	slot->trigger = trigger;
	slot->attempt = attempt;
	slot->done_since_us = done_since_us;
}

int sched_slot_catch_up(struct sched_slot *slot, const char *policy, int max, int64_t last_start_us,
                        int64_t now_us)
{
	int64_t last_missed = 0;
	int missed;

	if (sched_schedule_next(&slot->schedule, now_us, &slot->next_fire_us))
		slot->next_fire_us = 0;
	if (last_start_us <= 0 || slot->schedule.kind == SCHED_OFF)
		return 0;
	missed = sched_schedule_count(&slot->schedule, last_start_us, now_us,
	                              strcmp(policy, "all") ? 1000000 : max, &last_missed);
	if (!missed || !strcmp(policy, "none"))
		return missed;
	/* skip: one run now, unless another scheduler already ran after the
	 * latest missed fire; all: one run per missed fire (up to max). */
	plan(slot, now_us, "catch-up", 1, strcmp(policy, "all") ? last_missed : 0);
	slot->catch_up_left = strcmp(policy, "all") ? 0 : missed - 1;
	return missed;
}

void sched_slot_tick(struct sched_slot *slot, int64_t now_us)
{
	int64_t fire = slot->next_fire_us;

	if (!fire || now_us < fire)
		return;
	if (!slot->pending && !slot->worker)
		plan(slot, now_us, "schedule", 1, fire);
	else
		log_debug("fire coalesced into the run going on or pending", "flow=%s",
		          slot->flow->name);
	if (sched_schedule_next(&slot->schedule, now_us, &slot->next_fire_us))
		slot->next_fire_us = 0;
}

int sched_slot_finished(struct sched_slot *slot, const struct ts_config *cfg, int rc,
                        const struct sched_run_result *res, int64_t now_us, uint64_t *rng)
{
	int code = rc ? rc : res->outcome == SCHED_RUN_FAILED ? res->code : 0;
	int attempt = slot->attempt;

	slot->pending = 0;
	if (code && sched_retryable(code) && attempt < cfg->scheduler_max_attempts) {
		int64_t wait = sched_backoff_ms(attempt, cfg->scheduler_retry_base_ms,
		                                cfg->scheduler_retry_max_ms, rng);

		plan(slot, now_us + wait * 1000, "retry", attempt + 1, 0);
		return 1;
	}
	if (slot->catch_up_left > 0) {
		slot->catch_up_left--;
		plan(slot, now_us, "catch-up", 1, 0);
	}
	if (slot->after_pending && !slot->pending)
		plan(slot, now_us, "after", 1, 0);
	slot->after_pending = 0;
	return 0;
}

void sched_slot_follow(struct sched_slot *slot, int64_t now_us)
{
	if (slot->schedule.kind == SCHED_OFF || slot->pending)
		return;
	if (slot->worker)
		slot->after_pending = 1;
	else
		plan(slot, now_us, "after", 1, 0);
}

void sched_slot_rerun(struct sched_slot *slot, int abandoned_attempt, int64_t now_us)
{
	if (!slot->worker)
		plan(slot, now_us, "retry", abandoned_attempt + 1, 0);
}

/* ---- workers ---- */

static void *worker_main(void *arg)
{
	struct sched_worker *w = arg;

	w->rc = sched_run(w->cfg, &w->req, &w->res, &w->err);
	atomic_store(&w->done, 1);
	return NULL;
}

static int worker_start(const struct ts_config *cfg, struct sched_slot *slot, const char *owner)
{
	struct sched_worker *w = calloc(1, sizeof(*w));

	if (!w)
		return TS_ENOMEM;
	w->cfg = cfg;
	snprintf(w->scope, sizeof(w->scope), "*");
	snprintf(w->owner, sizeof(w->owner), "%s", owner);
	w->req = (struct sched_run_req){
	    .flow = slot->flow,
	    .args = {.cfg = cfg},
	    .scope = w->scope,
	    .trigger = slot->trigger,
	    .attempt = slot->attempt,
	    .owner = w->owner,
	    .lease_ms = cfg->scheduler_lease_ms,
	    .renew_ms = cfg->scheduler_heartbeat_ms,
	    .done_since_us = slot->done_since_us,
	};
	if (pthread_create(&w->thread, NULL, worker_main, w)) {
		free(w);
		return TS_ENOMEM;
	}
	slot->worker = w;
	slot->pending = 0;
	return 0;
}

static void count_result(struct sched_stats *st, const struct sched_worker *w)
{
	const char *flow = w->req.flow->name;

	if (w->rc) {
		st->failed++;
		log_warn("flow run could not be started",
		         "flow=%s trigger=%s attempt=%d error=\"%s\"", flow, w->req.trigger,
		         w->req.attempt, w->err.msg);
		return;
	}
	switch (w->res.outcome) {
	case SCHED_RUN_SUCCEEDED:
		st->succeeded++;
		log_info(
		    "flow run succeeded",
		    "run=%lld flow=%s trigger=%s attempt=%d rows_in=%lld rows_out=%lld ms=%lld",
		    (long long)w->res.id, flow, w->req.trigger, w->req.attempt,
		    (long long)w->res.stats.rows_in, (long long)w->res.stats.rows_out,
		    (long long)(w->res.duration_us / 1000));
		break;
	case SCHED_RUN_FAILED:
		st->failed++;
		log_warn("flow run failed", "run=%lld flow=%s trigger=%s attempt=%d error=\"%s\"",
		         (long long)w->res.id, flow, w->req.trigger, w->req.attempt, w->res.error);
		break;
	case SCHED_RUN_BUSY:
		st->busy++;
		log_info("flow run skipped: another run holds its lock", "flow=%s trigger=%s", flow,
		         w->req.trigger);
		break;
	case SCHED_RUN_DONE:
		st->skipped_done++;
		log_info("flow run skipped: another scheduler already ran this fire", "flow=%s",
		         flow);
		break;
	}
}

/* Collects finished workers and plans what follows. */
static void reap(const struct ts_config *cfg, struct sched_slot *slots, size_t n,
                 struct sched_stats *st, uint64_t *rng)
{
	for (size_t i = 0; i < n; i++) {
		struct sched_worker *w = slots[i].worker;

		if (!w || !atomic_load(&w->done))
			continue;
		pthread_join(w->thread, NULL);
		slots[i].worker = NULL;
		count_result(st, w);
		slots[i].attempt = w->req.attempt;
		if (sched_slot_finished(&slots[i], cfg, w->rc, &w->res, time_now_us(), rng)) {
			st->retries++;
			log_info("retry planned", "flow=%s attempt=%d in_ms=%lld",
			         slots[i].flow->name, slots[i].attempt,
			         (long long)((slots[i].due_us - time_now_us()) / 1000));
		}
		if (!w->rc && w->res.outcome == SCHED_RUN_SUCCEEDED && w->res.stats.rows_out > 0)
			for (size_t k = 0; k < n; k++)
				if (slots[k].flow->after &&
				    !strcmp(slots[k].flow->after, slots[i].flow->name))
					sched_slot_follow(&slots[k], time_now_us());
		free(w);
	}
}

/* ---- the control connection: heartbeat and sweep ---- */

struct control {
	struct db *db;
	char instance[SCHED_OWNER_MAX];
	int64_t started_us, last_beat_mono;
};

static void control_beat(const struct ts_config *cfg, struct control *c, struct sched_slot *slots,
                         size_t n, struct sched_stats *st)
{
	struct sched_abandoned ab[SWEEP_MAX];
	struct ts_err err;
	int found = 0, rc;

	c->last_beat_mono = time_mono_us();
	rc = c->db ? 0 : db_connect(cfg, (int)cfg->scheduler_heartbeat_ms, &c->db, &err);
	rc = rc ? rc : sched_runs_beat(c->db, c->instance, c->started_us, &err);
	rc = rc ? rc : sched_runs_sweep(c->db, ab, SWEEP_MAX, &found, &err);
	if (rc) {
		log_warn("heartbeat failed; retrying", "error=\"%s\"", err.msg);
		db_free(c->db);
		c->db = NULL;
	}
	for (int i = 0; i < found; i++) {
		st->abandoned_found++;
		for (size_t k = 0; k < n; k++)
			if (!strcmp(slots[k].flow->name, ab[i].flow) && !strcmp(ab[i].scope, "*"))
				sched_slot_rerun(&slots[k], ab[i].attempt, time_now_us());
	}
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL); /* a signal ends it early, which is what we want */
}

/* How long the loop may sleep: TICK_MS (to collect finished runs and beat),
 * or less when a fire or a planned run is due sooner, so that runs start on
 * time rather than up to a tick late. */
static int64_t until_next_ms(const struct sched_slot *slots, size_t n)
{
	int64_t now = time_now_us(), wait = TICK_MS * 1000;

	for (size_t i = 0; i < n; i++) {
		if (slots[i].next_fire_us && slots[i].next_fire_us - now < wait)
			wait = slots[i].next_fire_us - now;
		if (slots[i].pending && !slots[i].worker && slots[i].due_us - now < wait)
			wait = slots[i].due_us - now;
	}
	return wait <= 0 ? 0 : (wait + 999) / 1000;
}

/* Two live processes with one instance name would mix their heartbeats
 * and, at a stop, abandon each other's runs: refuse to start. */
static int check_instance(const struct ts_config *cfg, struct control *c, struct ts_err *err)
{
	char who[300];
	int taken = 0, rc;

	rc = sched_runs_instance_taken(c->db, c->instance, 3 * cfg->scheduler_heartbeat_ms, &taken,
	                               who, sizeof(who), err);
	if (!rc && taken)
		rc = ts_err_set(err, TS_EINVAL,
		                "scheduler.instance-id %s is in use by the live scheduler %s; give "
		                "each scheduler its own name (or leave it empty for HOST:PID)",
		                c->instance, who);
	return rc;
}

/* Start-up: the control connection (waiting for the database), catch-up. */
static int start(const struct ts_config *cfg, struct control *c, struct sched_slot *slots, size_t n,
                 volatile int *stop, struct ts_err *err)
{
	int64_t now = time_now_us(), last;
	int rc;

	while ((rc = db_connect(cfg, 5000, &c->db, err)) == TS_EUNAVAIL && !*stop) {
		log_warn("database unreachable; retrying", "error=\"%s\"", err->msg);
		sleep_ms(cfg->scheduler_heartbeat_ms);
	}
	if (rc)
		return rc;
	rc = check_instance(cfg, c, err);
	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++) {
		int missed;

		rc = sched_runs_last_start(c->db, slots[i].flow->name, &last, err);
		if (rc)
			return rc;
		missed = sched_slot_catch_up(&slots[i], cfg->scheduler_catch_up,
		                             (int)cfg->scheduler_catch_up_max, last, now);
		log_info("flow scheduled", "flow=%s schedule=\"%s\" missed_fires=%d catch_up=%s",
		         slots[i].flow->name, slots[i].schedule_text, missed,
		         missed ? cfg->scheduler_catch_up : "-");
	}
	return 0;
}

/* Graceful stop: wait for runs, abandon those that outlive the timeout. */
static void finish(const struct ts_config *cfg, struct control *c, struct sched_slot *slots,
                   size_t n, struct sched_stats *st, uint64_t *rng)
{
	int64_t deadline = time_mono_us() + cfg->scheduler_stop_timeout_ms * 1000;
	struct ts_err err;
	int left;

	for (;;) {
		reap(cfg, slots, n, st, rng);
		left = 0;
		for (size_t i = 0; i < n; i++)
			left += slots[i].worker != NULL;
		if (!left || time_mono_us() >= deadline)
			break;
		sleep_ms(TICK_MS);
	}
	st->left_running = left;
	if (!c->db && db_connect(cfg, 5000, &c->db, &err))
		return;
	if (left && sched_runs_abandon_owner(c->db, c->instance, NOT_RUNNING, &err))
		log_warn("cannot mark the runs going on abandoned", "error=\"%s\"", err.msg);
	if (sched_runs_unbeat(c->db, c->instance, &err))
		log_warn("cannot remove the heartbeat", "error=\"%s\"", err.msg);
}

int sched_main(const struct ts_config *cfg, const struct flow_def *flows, size_t nflows,
               volatile int *stop, struct sched_stats *st, struct ts_err *err)
{
	struct sched_slot *slots = calloc(nflows ? nflows : 1, sizeof(*slots));
	struct control c = {.started_us = time_now_us()};
	uint64_t rng = (uint64_t)time_now_us() ^ ((uint64_t)getpid() << 32);
	int rc;

	memset(st, 0, sizeof(*st));
	if (!slots)
		return ts_err_set(err, TS_ENOMEM, "out of memory");
	sched_instance_name(cfg, c.instance, sizeof(c.instance));
	rc = sched_slots_init(slots, flows, nflows, cfg->scheduler_schedules, err);
	if (rc) {
		free(slots);
		return rc;
	}
	rc = start(cfg, &c, slots, nflows, stop, err);
	if (rc) { /* nothing started, no heartbeat of ours to remove */
		db_free(c.db);
		free(slots);
		return rc;
	}
	log_info("scheduler started", "instance=%s flows=%zu", c.instance, nflows);
	if (cfg->scheduler_lease_ms < 3 * cfg->scheduler_heartbeat_ms)
		log_warn("scheduler.lease-ms is under three heartbeats: a slow renewal will look "
		         "like a dead run (the lock still protects a live one)",
		         "lease_ms=%lld heartbeat_ms=%lld", (long long)cfg->scheduler_lease_ms,
		         (long long)cfg->scheduler_heartbeat_ms);
	control_beat(cfg, &c, slots, nflows, st);
	while (!*stop) {
		int64_t now = time_now_us();

		if (time_mono_us() - c.last_beat_mono >= cfg->scheduler_heartbeat_ms * 1000)
			control_beat(cfg, &c, slots, nflows, st);
		reap(cfg, slots, nflows, st, &rng);
		for (size_t i = 0; i < nflows && !*stop; i++) {
			sched_slot_tick(&slots[i], now);
			if (!slots[i].pending || slots[i].worker || now < slots[i].due_us)
				continue;
			rc = worker_start(cfg, &slots[i], c.instance);
			if (rc) {
				ts_err_set(err, rc, "cannot start a worker thread");
				goto out;
			}
			st->runs++;
		}
		sleep_ms(until_next_ms(slots, nflows));
	}
	log_info("scheduler stopping", "instance=%s", c.instance);
out:
	finish(cfg, &c, slots, nflows, st, &rng);
	db_free(c.db);
	free(slots); /* workers still going on hold no pointer into it */
	return rc;
}
