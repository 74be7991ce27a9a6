/*
 * The read API's PostgreSQL connections: a small pool, as many connections
 * as the api has HTTP worker threads (each worker runs one request at a
 * time, so a request never waits for a connection), each with every read
 * statement prepared once (PQprepare) and run with PQexecPrepared only.
 *
 * PostgreSQL being down never blocks the workers for long: a failed connect
 * or a broken connection makes the pool answer TS_EUNAVAIL at once for
 * API_POOL_BACKOFF_MS before it tries again, and the handlers turn that into
 * 503 + Retry-After. The first successful connection applies the schema
 * migrations (db_migrate), so a fresh database gets the chart tables.
 *
 * Threads: api_pool_get/put/exec from any thread; a borrowed connection is
 * used by one thread at a time.
 */
#ifndef API_API_POOL_H
#define API_API_POOL_H

#include <libpq-fe.h>

#include "base/config.h"
#include "base/error.h"

#define API_POOL_BACKOFF_MS 1000

enum api_stmt {
	STMT_TOP_HOUR,
	STMT_TOP_DAY,
	STMT_TREND,
	STMT_SONGS,
	STMT_OFFSETS,
	STMT_LAKE_HOURS,
	STMT_RUNS,
	STMT_FRESHNESS,
	STMT_COUNT
};

/* Parameters of STMT_TREND after region, from, to; of STMT_SONGS in all. */
#define API_POOL_MAX_SONGS 10

struct api_pool;
struct api_conn;

/* size connections at most; cfg must outlive the pool. Connects lazily. */
int api_pool_new(const struct ts_config *cfg, int size, struct api_pool **out, struct ts_err *err);
/* Every connection must have been put back. NULL is a no-op. */
void api_pool_free(struct api_pool *pool);

/* Borrows a connection, connecting (and preparing) if needed. Returns 0,
 * TS_EUNAVAIL (database down or backing off) or TS_ENOMEM. */
int api_pool_get(struct api_pool *pool, struct api_conn **out, struct ts_err *err);
/* Gives it back; a connection that failed is closed and the pool backs off. */
void api_pool_put(struct api_pool *pool, struct api_conn *c);

/* Runs a prepared statement with text parameters (NULL = SQL NULL). *res
 * (PQclear it) gets the rows. Returns 0, TS_EUNAVAIL (connection lost or
 * statement timeout) or TS_EFAILED (an SQL error). */
int api_pool_exec(struct api_conn *c, enum api_stmt stmt, const char *const *params, PGresult **res,
                  struct ts_err *err);

/* Tries one connection now (start-up), so migrations run early. */
int api_pool_warm(struct api_pool *pool, struct ts_err *err);

#endif
