/*
 * The scheduler heartbeat probe; see check_scheduler.h. It reuses the
 * deadline-bound libpq helpers of check_pg.
 */
#include "base/common.h"
#include "base/error.h"
#include "check/check_pg.h"
#include "check/check_scheduler.h"

static const char sql_exists[] = "SELECT to_regclass('scheduler_heartbeats') IS NOT NULL";
/* count, age of the newest beat, its instance, how many beat recently */
static const char sql_age[] =
    "SELECT count(*), "
    "EXTRACT(EPOCH FROM clock_timestamp() - max(beat_at))::float8, "
    "(SELECT instance FROM scheduler_heartbeats ORDER BY beat_at DESC LIMIT 1) "
    "FROM scheduler_heartbeats";

/* Stale after three heartbeat intervals without a beat (at least 1 s). */
static double max_age_s(const struct ts_config *cfg)
{
	double s = 3.0 * (double)cfg->scheduler_heartbeat_ms / 1000.0;

	return s < 1.0 ? 1.0 : s;
}

/* Judges the heartbeat from the row of sql_age. */
static int judge(const struct ts_config *cfg, PGresult *r, struct check_result *out)
{
	double age, bound = max_age_s(cfg);

	if (PQntuples(r) != 1 || !strcmp(PQgetvalue(r, 0, 0), "0"))
		return check_result_not_running(out, "no scheduler heartbeat: no scheduler is "
		                                     "running (start `topsongs scheduler`)");
	age = strtod(PQgetvalue(r, 0, 1), NULL);
	if (age < bound)
		return check_result_ok(out, "last heartbeat %.1f s ago from %s",
		                       age < 0 ? 0.0 : age, PQgetvalue(r, 0, 2));
	return check_result_fail(out, TS_EUNAVAIL,
	                         "last heartbeat %.0f s ago from %s (more than %.0f s): the "
	                         "scheduler has stopped or is stuck; look at its log and restart "
	                         "`topsongs scheduler`",
	                         age, PQgetvalue(r, 0, 2), bound);
}

static int read_heartbeat(const struct ts_config *cfg, PGconn *conn,
                          const struct check_pg_deadline *dl, struct check_result *out)
{
	PGresult *r = NULL;
	int rc;

	rc = check_pg_query(conn, sql_exists, dl, &r, out);
	if (rc)
		goto out;
	if (PQntuples(r) != 1 || strcmp(PQgetvalue(r, 0, 0), "t")) {
		rc = check_result_not_running(out, "no scheduler has run yet (the database has "
		                                   "no scheduler_heartbeats table)");
		goto out;
	}
	PQclear(r);
	r = NULL;
	rc = check_pg_query(conn, sql_age, dl, &r, out);
	if (!rc)
		rc = judge(cfg, r, out);
out:
	PQclear(r);
	return rc;
}

int check_scheduler_probe(const struct ts_config *cfg, int64_t timeout_ms, struct check_result *out)
{
	struct check_pg_deadline dl;
	char *secret = NULL;
	PGconn *conn = NULL;
	int rc;

	check_pg_deadline_init(&dl, timeout_ms);
	rc = check_pg_secret(cfg->pg_url, &secret, out);
	check_pg_target(cfg->pg_url, secret, out);
	if (rc)
		goto out;
	rc = check_pg_connect(cfg->pg_url, &dl, &conn, out);
	if (rc) {
		/* Keep the reason, say what it stopped. */
		char why[CHECK_TEXT_MAX];

		snprintf(why, sizeof(why), "%s", out->reason);
		rc = check_result_fail(out, rc, "cannot read the heartbeat: %s", why);
		goto out;
	}
	rc = read_heartbeat(cfg, conn, &dl, out);
out:
	check_result_scrub(out->reason, sizeof(out->reason), secret);
	PQfinish(conn);
	check_pg_secret_free(secret);
	return rc;
}
