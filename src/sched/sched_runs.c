/*
 * One flow run with its lock, row and lease, and the bookkeeping queries of
 * the scheduler loop; see sched_runs.h.
 */
#include "base/common.h"
#include "base/failpoint.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "db/db.h"
#include "sched/sched_runs.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

/* Advisory locks of runs: the two-int form, namespace + hash of "flow scope". */
#define LOCK_ARGS "hashtext('topsongs.flow-run'), hashtext($1 || ' ' || $2)"

static atomic_long injected; /* runs failed by sched_run_fail / sched_run_error */

struct lease {
	const struct ts_config *cfg;
	char id[24];
	int64_t lease_ms, renew_ms;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop;
	pthread_t thread;
};

void sched_runs_scope(const struct flow_args *args, char *out, size_t size)
{
	char from[40] = "", to[40] = "";

	if (!args->region && !args->from_us && !args->to_us) {
		snprintf(out, size, "*");
		return;
	}
	if (args->from_us)
		time_format_rfc3339_ms(args->from_us, from, sizeof(from));
	if (args->to_us)
		time_format_rfc3339_ms(args->to_us, to, sizeof(to));
	snprintf(out, size, "region=%s from=%s to=%s", args->region ? args->region : "*",
	         from[0] ? from : "-", to[0] ? to : "-");
}

int sched_retryable(int code)
{
	return code == TS_EUNAVAIL || code == TS_ETIMEDOUT;
}

/* splitmix64: small, seedable, good enough for jitter. */
static uint64_t next_random(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

int64_t sched_backoff_ms(int retry, int64_t base_ms, int64_t cap_ms, uint64_t *rng)
{
	int64_t ceiling = base_ms;

	for (int i = 1; i < retry && ceiling < cap_ms; i++)
		ceiling *= 2;
	if (ceiling > cap_ms)
		ceiling = cap_ms;
	if (ceiling <= 0)
		return 0;
	return (int64_t)(next_random(rng) % (uint64_t)(ceiling + 1));
}

int sched_exit_status(int rc, const struct sched_run_result *res)
{
	if (rc)
		return rc == TS_EINVAL       ? SCHED_EXIT_USAGE
		       : sched_retryable(rc) ? SCHED_EXIT_TEMPFAIL
		                             : SCHED_EXIT_FAILED;
	switch (res->outcome) {
	case SCHED_RUN_SUCCEEDED:
	case SCHED_RUN_DONE:
		return SCHED_EXIT_OK;
	case SCHED_RUN_BUSY:
		return SCHED_EXIT_BUSY;
	case SCHED_RUN_FAILED:
		return sched_retryable(res->code) ? SCHED_EXIT_TEMPFAIL : SCHED_EXIT_FAILED;
	}
	return SCHED_EXIT_FAILED;
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* ---- the lease keeper: a thread with its own connection ---- */

static int renew(struct db **db, struct lease *l)
{
	char ms[24];
	const char *params[] = {l->id, ms};
	PGresult *r = NULL;
	struct ts_err err;
	int rc = 0;

	snprintf(ms, sizeof(ms), "%lld", (long long)l->lease_ms);
	if (!*db)
		rc = db_connect(l->cfg, (int)l->renew_ms, db, &err);
	if (!rc)
		rc = db_execp(*db,
		              "UPDATE flow_runs SET lease_until = now() + $2 * interval '1 "
		              "millisecond' WHERE id = $1 AND state = 'running' RETURNING id",
		              2, params, &r, &err);
	if (rc) {
		log_warn("cannot renew the lease", "run=%s error=\"%s\"", l->id, err.msg);
		db_free(*db);
		*db = NULL;
	} else if (PQntuples(r) == 0) {
		log_warn("run was marked abandoned by another scheduler", "run=%s", l->id);
	}
	PQclear(r);
	return rc;
}

static void *lease_main(void *arg)
{
	struct lease *l = arg;
	struct db *db = NULL;
	struct timespec deadline;

	pthread_mutex_lock(&l->mu);
	while (!l->stop) {
		clock_gettime(CLOCK_MONOTONIC, &deadline);
		deadline.tv_sec += (time_t)(l->renew_ms / 1000);
		deadline.tv_nsec += (long)(l->renew_ms % 1000) * 1000000L;
		if (deadline.tv_nsec >= 1000000000L) {
			deadline.tv_sec++;
			deadline.tv_nsec -= 1000000000L;
		}
		while (!l->stop && pthread_cond_timedwait(&l->cv, &l->mu, &deadline) != ETIMEDOUT)
			;
		if (l->stop)
			break;
		pthread_mutex_unlock(&l->mu);
		renew(&db, l);
		pthread_mutex_lock(&l->mu);
	}
	pthread_mutex_unlock(&l->mu);
	db_free(db);
	return NULL;
}

static int lease_start(struct lease *l)
{
	pthread_condattr_t ca;

	pthread_mutex_init(&l->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&l->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&l->thread, NULL, lease_main, l)) {
		pthread_cond_destroy(&l->cv);
		pthread_mutex_destroy(&l->mu);
		return TS_ENOMEM;
	}
	return 0;
}

static void lease_stop(struct lease *l)
{
	pthread_mutex_lock(&l->mu);
	l->stop = 1;
	pthread_cond_signal(&l->cv);
	pthread_mutex_unlock(&l->mu);
	pthread_join(l->thread, NULL);
	pthread_cond_destroy(&l->cv);
	pthread_mutex_destroy(&l->mu);
}

/* ---- one run ---- */

static int try_lock(struct db *db, const struct sched_run_req *req, int *got, struct ts_err *err)
{
	const char *params[] = {req->flow->name, req->scope};
	PGresult *r = NULL;
	int rc = db_execp(db, "SELECT pg_try_advisory_lock(" LOCK_ARGS ")", 2, params, &r, err);

	if (!rc)
		*got = !strcmp(PQgetvalue(r, 0, 0), "t");
	PQclear(r);
	return rc;
}

static void unlock(struct db *db, const struct sched_run_req *req)
{
	const char *params[] = {req->flow->name, req->scope};

	db_execp(db, "SELECT pg_advisory_unlock(" LOCK_ARGS ")", 2, params, NULL, NULL);
}

/* Did a run of flow+scope start at or after done_since_us? */
static int done_since(struct db *db, const struct sched_run_req *req, int *done, struct ts_err *err)
{
	char since[24];
	const char *params[] = {req->flow->name, req->scope, since};
	PGresult *r = NULL;
	int rc;

	*done = 0;
	if (req->done_since_us <= 0)
		return 0;
	snprintf(since, sizeof(since), "%lld", (long long)req->done_since_us);
	rc = db_execp(db,
	              "SELECT 1 FROM flow_runs WHERE flow = $1 AND scope = $2"
	              " AND started_at >= to_timestamp($3::float8 / 1e6) LIMIT 1",
	              3, params, &r, err);
	if (!rc)
		*done = PQntuples(r) > 0;
	PQclear(r);
	return rc;
}

static int insert_row(struct db *db, const struct sched_run_req *req, int64_t *id,
                      struct ts_err *err)
{
	char attempt[16], lease[24];
	const char *params[] = {req->flow->name, req->scope, req->trigger,
	                        attempt,         req->owner, lease};
	PGresult *r = NULL;
	int rc;

	snprintf(attempt, sizeof(attempt), "%d", req->attempt);
	snprintf(lease, sizeof(lease), "%lld", (long long)req->lease_ms);
	rc = db_execp(db,
	              "INSERT INTO flow_runs (flow, scope, trigger, state, attempt, owner,"
	              " lease_until) VALUES ($1, $2, $3, 'running', $4, $5,"
	              " now() + $6 * interval '1 millisecond') RETURNING id",
	              6, params, &r, err);
	if (!rc)
		*id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return rc;
}

/* The flow itself, or what a failpoint puts in its place. */
static int call_flow(struct db *db, const struct sched_run_req *req, struct sched_run_result *res,
                     struct ts_err *ferr)
{
	long hang = failpoint_arg("sched_run_hang");
	long fail = failpoint_arg("sched_run_fail");
	long error = failpoint_arg("sched_run_error");

	if (hang > 0)
		sleep_ms(hang);
	if (fail > 0 && atomic_fetch_add(&injected, 1) < fail)
		return ts_err_set(ferr, TS_EUNAVAIL,
		                  "failpoint sched_run_fail: injected temporary failure");
	if (error > 0 && atomic_fetch_add(&injected, 1) < error)
		return ts_err_set(ferr, TS_EFAILED,
		                  "failpoint sched_run_error: injected permanent failure");
	return req->flow->run(db, &req->args, &res->stats, ferr);
}

static int record_end(const struct ts_config *cfg, struct db **db,
                      const struct sched_run_result *res, struct ts_err *err)
{
	char id[24], in[24], out[24];
	const char *state = res->outcome == SCHED_RUN_SUCCEEDED ? "succeeded" : "failed";
	const char *params[] = {id, state, in, out,
	                        res->outcome == SCHED_RUN_FAILED ? res->error : NULL};
	static const char sql[] = "UPDATE flow_runs SET state = $2, finished_at = now(),"
	                          " rows_in = $3, rows_out = $4, error = $5, lease_until = NULL"
	                          " WHERE id = $1 AND state = 'running' RETURNING id";
	PGresult *r = NULL;
	int rc;

	snprintf(id, sizeof(id), "%lld", (long long)res->id);
	snprintf(in, sizeof(in), "%lld", (long long)res->stats.rows_in);
	snprintf(out, sizeof(out), "%lld", (long long)res->stats.rows_out);
	rc = db_execp(*db, sql, 5, params, &r, err);
	if (rc == TS_EUNAVAIL) { /* the flow's connection broke: one fresh try */
		db_free(*db);
		*db = NULL;
		rc = db_connect(cfg, 5000, db, err);
		rc = rc ? rc : db_execp(*db, sql, 5, params, &r, err);
	}
	if (!rc && PQntuples(r) == 0)
		log_warn("run had been marked abandoned; its result is not recorded",
		         "run=%lld state=%s", (long long)res->id, state);
	PQclear(r);
	return rc;
}

/* Steps 2 and 3 of sched_run, under the lock. */
static int run_locked(const struct ts_config *cfg, const struct sched_run_req *req, struct db **db,
                      struct sched_run_result *res, struct ts_err *err)
{
	struct lease lease = {.cfg = cfg, .lease_ms = req->lease_ms, .renew_ms = req->renew_ms};
	struct ts_err ferr;
	int64_t t0;
	int rc;

	rc = insert_row(*db, req, &res->id, err);
	if (rc)
		return rc;
	failpoint("sched_run_started");
	snprintf(lease.id, sizeof(lease.id), "%lld", (long long)res->id);
	rc = lease_start(&lease);
	if (rc)
		return ts_err_set(err, rc, "cannot start the lease thread");
	log_info("flow run started", "run=%lld flow=%s scope=\"%s\" trigger=%s attempt=%d",
	         (long long)res->id, req->flow->name, req->scope, req->trigger, req->attempt);
	t0 = time_mono_us();
	ts_err_clear(&ferr);
	res->code = call_flow(*db, req, res, &ferr);
	res->duration_us = time_mono_us() - t0;
	lease_stop(&lease);
	res->outcome = res->code ? SCHED_RUN_FAILED : SCHED_RUN_SUCCEEDED;
	if (res->code)
		snprintf(res->error, sizeof(res->error), "%s: %s", ts_code_name(res->code),
		         ferr.msg[0] ? ferr.msg : "no reason given");
	return record_end(cfg, db, res, err);
}

int sched_run(const struct ts_config *cfg, const struct sched_run_req *req,
              struct sched_run_result *res, struct ts_err *err)
{
	struct db *db = NULL;
	int rc, got = 0, done = 0;

	memset(res, 0, sizeof(*res));
	rc = db_connect(cfg, 5000, &db, err);
	rc = rc ? rc : try_lock(db, req, &got, err);
	if (rc)
		goto out;
	if (!got) {
		res->outcome = SCHED_RUN_BUSY;
		goto out;
	}
	rc = done_since(db, req, &done, err);
	if (!rc && done)
		res->outcome = SCHED_RUN_DONE;
	else if (!rc)
		rc = run_locked(cfg, req, &db, res, err);
	if (db)
		unlock(db, req);
out:
	db_free(db);
	return rc;
}

/* ---- bookkeeping of the scheduler loop ---- */

int sched_runs_beat(struct db *db, const char *instance, int64_t started_us, struct ts_err *err)
{
	char host[256] = "?", pid[16], started[24];
	const char *params[] = {instance, host, pid, started};

	gethostname(host, sizeof(host) - 1);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	snprintf(started, sizeof(started), "%lld", (long long)started_us);
	return db_execp(
	    db,
	    "INSERT INTO scheduler_heartbeats (instance, host, pid, started_at, beat_at)"
	    " VALUES ($1, $2, $3, to_timestamp($4::float8 / 1e6), now())"
	    " ON CONFLICT (instance) DO UPDATE SET host = $2, pid = $3,"
	    " started_at = to_timestamp($4::float8 / 1e6), beat_at = now()",
	    4, params, NULL, err);
}

int sched_runs_instance_taken(struct db *db, const char *instance, int64_t max_age_ms, int *taken,
                              char *who, size_t size, struct ts_err *err)
{
	char host[256] = "?", pid[16], age[24];
	const char *params[] = {instance, host, pid, age};
	PGresult *r = NULL;
	int rc;

	*taken = 0;
	gethostname(host, sizeof(host) - 1);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	snprintf(age, sizeof(age), "%lld", (long long)max_age_ms);
	rc = db_execp(db,
	              "SELECT host || ':' || pid FROM scheduler_heartbeats WHERE instance = $1"
	              " AND (host <> $2 OR pid <> $3::int)"
	              " AND beat_at > now() - $4 * interval '1 millisecond'",
	              4, params, &r, err);
	if (!rc && PQntuples(r) > 0) {
		*taken = 1;
		snprintf(who, size, "%s", PQgetvalue(r, 0, 0));
	}
	PQclear(r);
	return rc;
}

int sched_runs_unbeat(struct db *db, const char *instance, struct ts_err *err)
{
	const char *params[] = {instance};

	return db_execp(db, "DELETE FROM scheduler_heartbeats WHERE instance = $1", 1, params, NULL,
	                err);
}

/* Marks row (flow, scope, id) abandoned if its lock is free; *marked = 1 then. */
static int abandon_if_free(struct db *db, const char *flow, const char *scope, const char *id,
                           int *marked, struct ts_err *err)
{
	const char *lp[] = {flow, scope}, *up[] = {id};
	PGresult *r = NULL;
	int rc;

	*marked = 0;
	rc = db_execp(db, "SELECT pg_try_advisory_lock(" LOCK_ARGS ")", 2, lp, &r, err);
	if (rc || strcmp(PQgetvalue(r, 0, 0), "t")) {
		PQclear(r);
		return rc; /* its owner still holds the lock: alive, leave it */
	}
	PQclear(r);
	r = NULL;
	rc = db_execp(db,
	              "UPDATE flow_runs SET state = 'abandoned', finished_at = now(),"
	              " error = 'lease expired at ' || lease_until || ': its owner ' || owner ||"
	              " ' stopped renewing it (the process died or lost the database)'"
	              " WHERE id = $1 AND state = 'running' RETURNING id",
	              1, up, &r, err);
	if (!rc)
		*marked = PQntuples(r) > 0;
	PQclear(r);
	db_execp(db, "SELECT pg_advisory_unlock(" LOCK_ARGS ")", 2, lp, NULL, NULL);
	return rc;
}

int sched_runs_sweep(struct db *db, struct sched_abandoned *out, int max, int *n,
                     struct ts_err *err)
{
	char lim[16];
	const char *params[] = {lim};
	PGresult *r = NULL;
	int rc;

	*n = 0;
	snprintf(lim, sizeof(lim), "%d", max);
	rc = db_execp(db,
	              "SELECT id, flow, scope, attempt FROM flow_runs WHERE state = 'running'"
	              " AND lease_until < now() ORDER BY id LIMIT $1",
	              1, params, &r, err);
	for (int i = 0; !rc && i < PQntuples(r); i++) {
		struct sched_abandoned *a = &out[*n];
		int marked = 0;

		rc = abandon_if_free(db, PQgetvalue(r, i, 1), PQgetvalue(r, i, 2),
		                     PQgetvalue(r, i, 0), &marked, err);
		if (rc || !marked)
			continue;
		a->id = strtoll(PQgetvalue(r, i, 0), NULL, 10);
		snprintf(a->flow, sizeof(a->flow), "%s", PQgetvalue(r, i, 1));
		snprintf(a->scope, sizeof(a->scope), "%s", PQgetvalue(r, i, 2));
		a->attempt = (int)strtol(PQgetvalue(r, i, 3), NULL, 10);
		log_warn("run abandoned: its lease expired", "run=%lld flow=%s scope=\"%s\"",
		         (long long)a->id, a->flow, a->scope);
		(*n)++;
	}
	PQclear(r);
	return rc;
}

int sched_runs_abandon_owner(struct db *db, const char *owner, const char *why, struct ts_err *err)
{
	const char *params[] = {owner, why};

	return db_execp(db,
	                "UPDATE flow_runs SET state = 'abandoned', finished_at = now(), error = $2,"
	                " lease_until = NULL WHERE owner = $1 AND state = 'running'",
	                2, params, NULL, err);
}

int sched_runs_last_start(struct db *db, const char *flow, int64_t *us, struct ts_err *err)
{
	const char *params[] = {flow};
	PGresult *r = NULL;
	int rc;

	*us = 0;
	rc = db_execp(db,
	              "SELECT coalesce(floor(extract(epoch FROM max(started_at)) * 1e6)::bigint, 0)"
	              " FROM flow_runs WHERE flow = $1 AND scope = '*' AND trigger <> 'manual'",
	              1, params, &r, err);
	if (!rc)
		*us = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return rc;
}
