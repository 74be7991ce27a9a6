/*
 * The PostgreSQL probe of `topsongs check`, and the libpq helpers it shares
 * with the scheduler probe: a connection and a query that both honour an
 * absolute deadline (libpq's non-blocking API driven by poll(2), so a
 * server that accepts the TCP connection and then says nothing cannot hold
 * the check past its timeout), and the condensing of libpq's multi-line
 * error messages into one line ("connection refused at 127.0.0.1:5432").
 *
 * The password of pg.url never reaches a result: targets are redacted with
 * config_redact_url and every reason is scrubbed of the password libpq
 * parsed out of the URL. All functions may be called from any thread
 * (libpq is thread-safe); a PGconn belongs to one thread at a time.
 */
#ifndef CHECK_CHECK_PG_H
#define CHECK_CHECK_PG_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "base/config.h"
#include "check/check_result.h"

/* Connects to cfg->pg_url and runs SELECT 1; see check.h for the contract. */
int check_pg_probe(const struct ts_config *cfg, int64_t timeout_ms, struct check_result *out);

/*
 * Reads the password out of a libpq URL or conninfo into *secret (malloc'd,
 * NULL when there is none; free it with check_pg_secret_free). Returns 0, or
 * TS_EINVAL when url cannot be parsed, with a reason in res that quotes
 * nothing from url.
 */
int check_pg_secret(const char *url, char **secret, struct check_result *res);
/* Wipes and frees a secret; NULL is a no-op. */
void check_pg_secret_free(char *secret);

/* out->target = url with its password redacted and secret scrubbed. */
void check_pg_target(const char *url, const char *secret, struct check_result *out);

/* An absolute deadline, and the timeout it came from (for messages). */
struct check_pg_deadline {
	int64_t at_us; /* time_mono_us clock */
	int64_t timeout_ms;
};

/* A deadline timeout_ms from now. */
void check_pg_deadline_init(struct check_pg_deadline *dl, int64_t timeout_ms);

/*
 * Connects before the deadline. Returns 0 with *conn
 * open (close it with PQfinish), or TS_EUNAVAIL / TS_ETIMEDOUT / TS_EFAILED
 * / TS_ENOMEM with a failed result and its reason in res.
 */
int check_pg_connect(const char *url, const struct check_pg_deadline *dl, PGconn **conn,
                     struct check_result *res);

/*
 * Runs one statement before the deadline. Returns 0 with *out holding its
 * PGRES_TUPLES_OK or PGRES_COMMAND_OK result (PQclear it), or a negative
 * code with a failed result in res.
 */
int check_pg_query(PGconn *conn, const char *sql, const struct check_pg_deadline *dl,
                   PGresult **out, struct check_result *res);

/*
 * Condenses a libpq error message into one line:
 *   connection to server at "h" (1.2.3.4), port 5 failed: Connection refused
 *   \tIs the server running on that host ...?
 * becomes "connection refused at h:5 (1.2.3.4)"; "FATAL:  " and "ERROR:  "
 * prefixes go; further attempts on other addresses are counted.
 */
void check_pg_condense(const char *msg, char *out, size_t size);

#endif
