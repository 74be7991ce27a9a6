/*
 * The scheduler heartbeat probe; see check_scheduler.h. It reuses the
 * deadline-bound libpq helpers of check_pg.
 */
#include "base/common.h"
#include "base/error.h"
#include "check/check_pg.h"
#include "check/check_scheduler.h"

static const char sql_exists[] = "SELECT to_regclass('scheduler_heartbeat') IS NOT NULL";
static const char sql_age[] = "SELECT count(*), "
                              "EXTRACT(EPOCH FROM clock_timestamp() - max(beat_at))::float8 "
                              "FROM scheduler_heartbeat";

/* Judges the heartbeat from the row of sql_age. */
static int judge(PGresult *r, struct check_result *out)
{
	double age;

	if (PQntuples(r) != 1 || !strcmp(PQgetvalue(r, 0, 0), "0"))
		return check_result_not_running(out, "scheduler_heartbeat is empty: no "
		                                     "scheduler has run yet");
	age = strtod(PQgetvalue(r, 0, 1), NULL);
	if (age < CHECK_SCHEDULER_MAX_AGE_S)
		return check_result_ok(out, "last heartbeat %.1f s ago", age < 0 ? 0.0 : age);
	return check_result_fail(out, TS_EUNAVAIL,
	                         "last heartbeat %.0f s ago (more than %d s): the scheduler has "
	                         "stopped or is stuck",
	                         age, CHECK_SCHEDULER_MAX_AGE_S);
}

static int read_heartbeat(PGconn *conn, const struct check_pg_deadline *dl,
                          struct check_result *out)
{
	PGresult *r = NULL;
	int rc;

	rc = check_pg_query(conn, sql_exists, dl, &r, out);
	if (rc)
		goto out;
	if (PQntuples(r) != 1 || strcmp(PQgetvalue(r, 0, 0), "t")) {
		rc = check_result_not_running(out, "no scheduler has run yet (the scheduler is "
		                                   "not part of this release)");
		goto out;
	}
	PQclear(r);
	r = NULL;
	rc = check_pg_query(conn, sql_age, dl, &r, out);
	if (!rc)
		rc = judge(r, out);
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
	rc = read_heartbeat(conn, &dl, out);
out:
	check_result_scrub(out->reason, sizeof(out->reason), secret);
	PQfinish(conn);
	check_pg_secret_free(secret);
	return rc;
}
