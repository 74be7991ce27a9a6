/*
 * PostgreSQL access for the binary: connecting with the configured URL, and
 * the versioned schema migrations (db_migrate), applied in order, each in
 * its own transaction, under an advisory lock so that several processes
 * starting at once apply each migration exactly once.
 *
 * A struct db is one libpq connection: one thread at a time.
 */
#ifndef DB_DB_H
#define DB_DB_H

#include <libpq-fe.h>

#include "base/config.h"
#include "base/dbuf.h"
#include "base/error.h"

struct db;

/* Connects within timeout_ms. Errors never contain the password. */
int db_connect(const struct ts_config *cfg, int timeout_ms, struct db **out, struct ts_err *err);
PGconn *db_conn(struct db *db);
void db_free(struct db *db);

/* Runs SQL without parameters (DDL, BEGIN, COMMIT). */
int db_exec(struct db *db, const char *sql, struct ts_err *err);

/* Runs one parameterised statement; *res (if not NULL) receives the result,
 * which the caller PQclear()s. Returns 0 or TS_EFAILED with the server's
 * message. */
int db_execp(struct db *db, const char *sql, int nparams, const char *const *params, PGresult **res,
             struct ts_err *err);

/* Builds a text[] parameter ("{\"a\",\"b\"}"): db_array_add for each item,
 * then db_array_end. 0, TS_ETOOBIG or TS_ENOMEM. */
int db_array_add(struct dbuf *b, const char *item);
int db_array_end(struct dbuf *b);

/* Applies every migration not yet applied; *applied gets how many ran. */
int db_migrate(struct db *db, int *applied, struct ts_err *err);

/* The newest schema version this binary knows. */
int db_schema_version(void);

#endif
