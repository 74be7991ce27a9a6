/*
 * The pool of prepared PostgreSQL connections behind the read API; see
 * api_pool.h. Why a pool and not one connection per thread-local slot: the
 * pool owns every connection, so shutdown closes them in one place and the
 * backoff after an outage is shared by all workers instead of each worker
 * finding out on its own.
 */
#include "base/common.h"
#include "api/api_pool.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "db/db.h"

#include <pthread.h>

struct api_conn {
	struct db *db;
	int broken;
};

struct api_pool {
	const struct ts_config *cfg;
	pthread_mutex_t lock;
	int size, nidle, nopen;
	struct api_conn **idle;
	int64_t retry_at_us; /* monotonic; no connect attempt before */
	int migrated;
};

/* Every read statement; $n are text parameters cast in SQL. */
static const struct {
	const char *name, *sql;
	int nparams;
} stmts[STMT_COUNT] = {
    [STMT_TOP_HOUR] = {"top_hour",
                       "SELECT rank, song_id, title, artist, genre, plays, previous_rank, movement,"
                       " peak_rank, periods_on_chart, entry, is_final,"
                       " to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
                       " FROM top_songs_hourly WHERE region = $1 AND hour_start = $2::timestamptz"
                       " ORDER BY rank",
                       2},
    [STMT_TOP_DAY] = {"top_day",
                      "SELECT rank, song_id, title, artist, genre, plays, previous_rank, movement,"
                      " peak_rank, periods_on_chart, entry, is_final,"
                      " to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
                      " FROM top_songs_daily WHERE region = $1 AND day = $2::date ORDER BY rank",
                      2},
    /* Each song looked up in its hour's packed row (docs/flows.md,
     * "State"): unpacking the hour through the plays_hourly view cost
     * about 5 ms an hour, the lookup about 1.4 ms. The row's arrays are
     * read out of TOAST (and decompressed) once, in d — array_cat with an
     * empty array returns its first argument detoasted, and OFFSET 0 keeps
     * d from being folded into each use —, not once per song asked for. */
    [STMT_TREND] = {"trend",
                    "SELECT s.song_id, extract(epoch FROM p.hour_start)::bigint, d.plays[s.i]"
                    " FROM plays_hourly_packed p CROSS JOIN LATERAL (SELECT p.song_ids ||"
                    " '{}'::text[] AS song_ids, p.plays || '{}'::bigint[] AS plays OFFSET 0) d"
                    " CROSS JOIN LATERAL (SELECT x AS song_id, array_position(d.song_ids, x) AS i"
                    " FROM unnest(ARRAY[$4, $5, $6, $7, $8, $9, $10, $11, $12, $13]) AS x) s"
                    " WHERE p.region = $1"
                    " AND p.hour_start >= $2::timestamptz AND p.hour_start < $3::timestamptz"
                    " AND s.i IS NOT NULL ORDER BY 1, 2",
                    3 + API_POOL_MAX_SONGS},
    [STMT_SONGS] = {"songs",
                    "SELECT song_id, title, artist, genre FROM songs"
                    " WHERE song_id IN ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                    API_POOL_MAX_SONGS},
    [STMT_OFFSETS] = {"offsets",
                      "SELECT kafka_partition, next_offset,"
                      " to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
                      " to_char(watermark AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
                      " FROM ingest_offsets WHERE topic = $1 ORDER BY kafka_partition",
                      1},
    /* lake_hours is written in the same transaction as ingest_files and has
     * one row per (region, day, hour): the newest partitions without
     * scanning the file list. */
    [STMT_LAKE_HOURS] = {"lake_hours",
                         "SELECT region, to_char(day, 'YYYY-MM-DD'), hour, rows, files,"
                         " closed_at IS NOT NULL, late_rows,"
                         " to_char(updated_at AT TIME ZONE 'UTC',"
                         " 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
                         " FROM lake_hours ORDER BY day DESC, hour DESC, region LIMIT $1::int",
                         1},
    [STMT_RUNS] = {"flow_runs",
                   "SELECT id, flow, scope, trigger, state, attempt, owner,"
                   " to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
                   " to_char(finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
                   " rows_in, rows_out, error"
                   " FROM flow_runs ORDER BY started_at DESC, id DESC LIMIT $1::int",
                   1},
    [STMT_FRESHNESS] = {"freshness",
                        "SELECT"
                        " extract(epoch FROM now())::bigint,"
                        " (SELECT extract(epoch FROM max(updated_at))::bigint FROM lake_hours),"
                        " (SELECT extract(epoch FROM max(updated_at))::bigint"
                        "  FROM top_songs_hourly WHERE hour_start >= now() - interval '2 hours'),"
                        " (SELECT extract(epoch FROM max(beat_at))::bigint"
                        "  FROM scheduler_heartbeats)",
                        0},
};

int api_pool_new(const struct ts_config *cfg, int size, struct api_pool **out, struct ts_err *err)
{
	struct api_pool *pool = calloc(1, sizeof(*pool));

	if (!pool || size < 1 || !(pool->idle = calloc((size_t)size, sizeof(*pool->idle)))) {
		free(pool);
		return ts_err_set(err, TS_ENOMEM, "out of memory");
	}
	pool->cfg = cfg;
	pool->size = size;
	pthread_mutex_init(&pool->lock, NULL);
	*out = pool;
	return 0;
}

static void conn_close(struct api_conn *c)
{
	db_free(c->db);
	free(c);
}

void api_pool_free(struct api_pool *pool)
{
	if (!pool)
		return;
	for (int i = 0; i < pool->nidle; i++)
		conn_close(pool->idle[i]);
	pthread_mutex_destroy(&pool->lock);
	free(pool->idle);
	free(pool);
}

static int prepare_all(struct db *db, struct ts_err *err)
{
	for (size_t i = 0; i < STMT_COUNT; i++) {
		PGresult *r =
		    PQprepare(db_conn(db), stmts[i].name, stmts[i].sql, stmts[i].nparams, NULL);
		int ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;

		if (!ok)
			ts_err_set(err, TS_EFAILED, "postgresql: preparing %s: %.200s",
			           stmts[i].name,
			           r ? PQresultErrorMessage(r) : PQerrorMessage(db_conn(db)));
		PQclear(r);
		if (!ok)
			return TS_EFAILED;
	}
	return 0;
}

/* Connects, migrates once per pool, sets the statement timeout, prepares. */
static int conn_open(struct api_pool *pool, struct api_conn **out, struct ts_err *err)
{
	struct api_conn *c = calloc(1, sizeof(*c));
	int rc, applied = 0, migrate;

	if (!c)
		return ts_err_set(err, TS_ENOMEM, "out of memory");
	rc = db_connect(pool->cfg, 2000, &c->db, err);
	pthread_mutex_lock(&pool->lock);
	migrate = !rc && !pool->migrated;
	pthread_mutex_unlock(&pool->lock);
	if (migrate) {
		/* Tried once per pool: a database already at a newer schema (a
		 * newer binary migrated it) can still be read as long as the
		 * tables we read are there; preparing tells. */
		if (db_migrate(c->db, &applied, err))
			log_warn("read api: schema not migrated", "reason=\"%s\"",
			         err ? err->msg : "");
		pthread_mutex_lock(&pool->lock);
		pool->migrated = 1;
		pthread_mutex_unlock(&pool->lock);
	}
	rc = rc ? rc : db_exec(c->db, "SET statement_timeout = 3000", err);
	rc = rc ? rc : prepare_all(c->db, err);
	if (rc) {
		conn_close(c);
		return rc;
	}
	*out = c;
	return 0;
}

int api_pool_get(struct api_pool *pool, struct api_conn **out, struct ts_err *err)
{
	int64_t now = time_mono_us();
	int rc;

	pthread_mutex_lock(&pool->lock);
	if (pool->nidle) {
		*out = pool->idle[--pool->nidle];
		pthread_mutex_unlock(&pool->lock);
		return 0;
	}
	if (now < pool->retry_at_us) {
		pthread_mutex_unlock(&pool->lock);
		return ts_err_set(err, TS_EUNAVAIL, "postgresql unavailable (retrying shortly)");
	}
	pool->nopen++;
	pthread_mutex_unlock(&pool->lock);
	rc = conn_open(pool, out, err);
	if (rc) {
		pthread_mutex_lock(&pool->lock);
		pool->nopen--;
		pool->retry_at_us = time_mono_us() + API_POOL_BACKOFF_MS * 1000LL;
		pthread_mutex_unlock(&pool->lock);
		log_warn("read api: no database connection", "reason=\"%s\"", err ? err->msg : "");
		return rc == TS_ENOMEM ? rc : TS_EUNAVAIL;
	}
	return 0;
}

void api_pool_put(struct api_pool *pool, struct api_conn *c)
{
	if (!c)
		return;
	struct api_conn *stale[64];
	int nstale = 0;

	pthread_mutex_lock(&pool->lock);
	if (c->broken || PQstatus(db_conn(c->db)) != CONNECTION_OK || pool->nidle == pool->size) {
		pool->nopen--;
		/* One lost connection means the server restarted or went away:
		 * the idle ones are just as dead, so the next request reconnects
		 * instead of each stale connection failing one request. */
		while (c->broken && pool->nidle && nstale < (int)ARRAY_SIZE(stale)) {
			stale[nstale++] = pool->idle[--pool->nidle];
			pool->nopen--;
		}
		pthread_mutex_unlock(&pool->lock);
		conn_close(c);
		for (int i = 0; i < nstale; i++)
			conn_close(stale[i]);
		return;
	}
	pool->idle[pool->nidle++] = c;
	pthread_mutex_unlock(&pool->lock);
}

int api_pool_exec(struct api_conn *c, enum api_stmt stmt, const char *const *params, PGresult **res,
                  struct ts_err *err)
{
	PGconn *conn = db_conn(c->db);
	PGresult *r =
	    PQexecPrepared(conn, stmts[stmt].name, stmts[stmt].nparams, params, NULL, NULL, 0);
	ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	const char *state;

	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
		*res = r;
		return 0;
	}
	state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	ts_err_set(err, TS_EFAILED, "postgresql: %s: %.200s", stmts[stmt].name,
	           r ? PQresultErrorMessage(r) : PQerrorMessage(conn));
	PQclear(r);
	/* Lost connection, or 57014 query_canceled (statement timeout), or 57P*
	 * (server shutting down): the database, not the request, is at fault. */
	if (PQstatus(conn) != CONNECTION_OK || (state && !strncmp(state, "57", 2))) {
		c->broken = PQstatus(conn) != CONNECTION_OK || !strncmp(state, "57P", 3);
		return TS_EUNAVAIL;
	}
	return TS_EFAILED;
}

int api_pool_warm(struct api_pool *pool, struct ts_err *err)
{
	struct api_conn *c = NULL;
	int rc = api_pool_get(pool, &c, err);

	api_pool_put(pool, c);
	return rc;
}
