/*
 * The PostgreSQL probe and its deadline-bound libpq helpers; see check_pg.h.
 */
#include "base/common.h"
#include "base/dbuf.h"
#include "base/error.h"
#include "base/timeutil.h"
#include "check/check_pg.h"

#include <ctype.h>
#include <errno.h>
#include <poll.h>

static const char *after(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);

	return strncmp(s, prefix, n) ? NULL : s + n;
}

/* Splits 'connection to server at "H" (IP), port P failed: REST' (or "on
 * socket "S" failed: REST") into a place and REST; NULL when it is not one. */
static const char *parse_attempt(const char *line, char *where, size_t size)
{
	const char *p, *q, *ip = NULL, *ipend = NULL;
	char *end;
	long port;

	if ((p = after(line, "connection to server on socket \""))) {
		q = strchr(p, '"');
		if (!q || !(q = after(q, "\" failed: ")))
			return NULL;
		snprintf(where, size, "socket %.*s", (int)(strchr(p, '"') - p), p);
		return q;
	}
	if (!(p = after(line, "connection to server at \"")) || !(q = strchr(p, '"')))
		return NULL;
	if (q[1] == ' ' && q[2] == '(' && (ipend = strchr(q + 3, ')')))
		ip = q + 3;
	if (!(line = strstr(ipend ? ipend : q, ", port ")))
		return NULL;
	port = strtol(line + 7, &end, 10);
	if (!(line = after(end, " failed: ")))
		return NULL;
	if (ip && (size_t)(ipend - ip) == (size_t)(q - p) && !memcmp(ip, p, (size_t)(q - p)))
		ip = NULL;
	snprintf(where, size, "%.*s:%ld%s%.*s%s", (int)(q - p), p, port, ip ? " (" : "",
	         ip ? (int)(ipend - ip) : 0, ip ? ip : "", ip ? ")" : "");
	return line;
}

static const char *strip_severity(const char *s)
{
	static const char *const prefixes[] = {"FATAL:  ", "ERROR:  ", "fe_sendauth: "};

	for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++)
		if (after(s, prefixes[i]))
			return s + strlen(prefixes[i]);
	return s;
}

static int count_attempts(const char *msg)
{
	int n = 0;

	for (const char *p = msg; (p = strstr(p, "connection to server ")); p++)
		n++;
	return n;
}

void check_pg_condense(const char *msg, char *out, size_t size)
{
	char line[CHECK_TEXT_MAX], where[CHECK_TEXT_MAX] = "";
	const char *rest;
	size_t len = strcspn(msg, "\n");
	int more = count_attempts(msg) - 1;

	snprintf(line, sizeof(line), "%.*s", (int)len, msg);
	rest = parse_attempt(line, where, sizeof(where));
	rest = strip_severity(rest ? rest : line);
	snprintf(out, size, "%s%s%s", rest, where[0] ? " at " : "", where);
	/* "Connection refused" reads better mid-sentence as "connection refused". */
	if (isupper((unsigned char)out[0]) && islower((unsigned char)out[1]))
		out[0] = (char)tolower((unsigned char)out[0]);
	if (more > 0) {
		len = strlen(out);
		snprintf(out + len, size - len, " (and %d more address%s failed)", more,
		         more == 1 ? "" : "es");
	}
	check_result_oneline(out);
}

/* Copies msg into out with every quoted piece that holds a letter or digit
 * replaced by "...": libpq's parse errors quote pieces of the URL, password
 * included. An unclosed quote (a cut message) runs to the end. */
static void elide_quotes(const char *msg, char *out, size_t size)
{
	struct dbuf b;
	int rc = 0;

	dbuf_init(&b, size - 1);
	for (const char *r = msg; !rc && *r; r++) {
		const char *end = *r == '"' ? strchr(r + 1, '"') : NULL;
		int alnum = 0;

		if (*r != '"') {
			rc = dbuf_addc(&b, *r);
			continue;
		}
		if (!end)
			end = r + strlen(r); /* unclosed: to the end */
		for (const char *p = r + 1; p < end; p++)
			alnum |= isalnum((unsigned char)*p) != 0;
		if (alnum)
			rc = dbuf_addstr(&b, *end ? "\"...\"" : "\"...");
		else
			rc = dbuf_add(&b, r, (size_t)(end - r) + (*end != '\0'));
		if (!*end)
			break;
		r = end;
	}
	snprintf(out, size, "%s", dbuf_str(&b));
	dbuf_release(&b);
}

int check_pg_secret(const char *url, char **secret, struct check_result *res)
{
	char *errmsg = NULL, why[CHECK_TEXT_MAX];
	PQconninfoOption *opts = PQconninfoParse(url, &errmsg);
	int rc = 0;

	*secret = NULL;
	if (!opts) {
		elide_quotes(errmsg ? errmsg : "out of memory", why, sizeof(why));
		PQfreemem(errmsg);
		return check_result_fail(res, TS_EINVAL, "pg.url cannot be parsed: %s", why);
	}
	for (PQconninfoOption *o = opts; o->keyword; o++) {
		if (strcmp(o->keyword, "password") || !o->val || !o->val[0])
			continue;
		*secret = strdup(o->val);
		if (!*secret)
			rc = check_result_fail(res, TS_ENOMEM, "out of memory");
	}
	for (PQconninfoOption *o = opts; o->keyword; o++)
		if (o->val)
			explicit_bzero(o->val, strlen(o->val));
	PQconninfoFree(opts);
	return rc;
}

void check_pg_secret_free(char *secret)
{
	if (secret)
		explicit_bzero(secret, strlen(secret));
	free(secret);
}

/* Length of a conninfo or URL-query value: up to '&' or a blank, or a
 * whole 'quoted value'. */
static size_t value_len(const char *v)
{
	const char *q;

	if (*v != '\'')
		return strcspn(v, "& ");
	for (q = v + 1; *q && *q != '\''; q++)
		if (*q == '\\' && q[1])
			q++;
	return (size_t)(q - v) + (*q == '\'');
}

/* Copies url into out with the value of every "password=" masked (URL
 * query or conninfo, quoted or not): config_redact_url misses the query
 * form and cuts a quoted value at its first blank, and when libpq cannot
 * parse the URL this is all the protection there is. */
static int mask_password_params(const char *url, struct dbuf *out)
{
	const char *r = url;
	int rc = 0;

	while (!rc && *r) {
		if (!strncmp(r, "password=", 9)) {
			rc = dbuf_addstr(out, "password=<redacted>");
			r += 9;
			r += value_len(r);
		} else {
			rc = dbuf_addc(out, *r++);
		}
	}
	return rc;
}

void check_pg_target(const char *url, const char *secret, struct check_result *out)
{
	struct dbuf masked;

	dbuf_init(&masked, 1 << 16);
	if (mask_password_params(url, &masked))
		snprintf(out->target, sizeof(out->target), "(pg.url, too long to show)");
	else
		config_redact_url(dbuf_str(&masked), out->target, sizeof(out->target));
	dbuf_release(&masked);
	check_result_scrub(out->target, sizeof(out->target), secret);
	check_result_oneline(out->target);
}

/* Where conn is (or was trying to go): "h:5432" or "socket /run/x". */
static void conn_where(PGconn *conn, char *out, size_t size)
{
	const char *host = PQhost(conn), *port = PQport(conn);

	if (host && host[0] == '/')
		snprintf(out, size, "socket %s/.s.PGSQL.%s", host, port ? port : "5432");
	else
		snprintf(out, size, "%s:%s", host ? host : "?", port ? port : "5432");
}

static int fail_conn(PGconn *conn, int rc, const char *what, struct check_result *res)
{
	char why[CHECK_TEXT_MAX];

	check_pg_condense(PQerrorMessage(conn), why, sizeof(why));
	return check_result_fail(res, rc, "%s%s", what, why);
}

/* Waits until conn's socket is ready; 0, TS_ETIMEDOUT or TS_EIO. */
static int wait_socket(PGconn *conn, int for_write, int64_t deadline_us)
{
	struct pollfd pfd = {.fd = PQsocket(conn), .events = for_write ? POLLOUT : POLLIN};
	int rc;

	if (pfd.fd < 0)
		return TS_EIO;
	do {
		int64_t left_ms = (deadline_us - time_mono_us() + 999) / 1000;

		if (left_ms <= 0)
			return TS_ETIMEDOUT;
		rc = poll(&pfd, 1, (int)left_ms);
	} while (rc < 0 && errno == EINTR);
	if (rc < 0)
		return TS_EIO;
	return rc == 0 ? TS_ETIMEDOUT : 0;
}

void check_pg_deadline_init(struct check_pg_deadline *dl, int64_t timeout_ms)
{
	dl->at_us = time_mono_us() + timeout_ms * 1000;
	dl->timeout_ms = timeout_ms;
}

static int fail_wait(PGconn *conn, int rc, const struct check_pg_deadline *dl,
                     struct check_result *res)
{
	char where[CHECK_TEXT_MAX];

	if (rc != TS_ETIMEDOUT)
		return fail_conn(conn, TS_EUNAVAIL, "", res);
	conn_where(conn, where, sizeof(where));
	return check_result_fail(res, rc, "no answer from %s within %lld ms", where,
	                         (long long)dl->timeout_ms);
}

int check_pg_connect(const char *url, const struct check_pg_deadline *dl, PGconn **conn,
                     struct check_result *res)
{
	/* application_name first so that one in the URL wins. */
	const char *const keys[] = {"application_name", "dbname", NULL};
	const char *const vals[] = {"topsongs-check", url, NULL};
	PostgresPollingStatusType st = PGRES_POLLING_WRITING;
	PGconn *c = PQconnectStartParams(keys, vals, 1);
	int rc = 0;

	*conn = NULL;
	if (!c)
		return check_result_fail(res, TS_ENOMEM, "out of memory");
	if (PQstatus(c) == CONNECTION_BAD)
		st = PGRES_POLLING_FAILED;
	while (!rc && st != PGRES_POLLING_OK) {
		if (st == PGRES_POLLING_FAILED) {
			rc = fail_conn(c, TS_EUNAVAIL, "", res);
			break;
		}
		rc = wait_socket(c, st == PGRES_POLLING_WRITING, dl->at_us);
		if (rc)
			rc = fail_wait(c, rc, dl, res);
		else
			st = PQconnectPoll(c);
	}
	if (rc)
		PQfinish(c);
	else
		*conn = c;
	return rc;
}

/* Sends everything libpq buffered. */
static int flush_all(PGconn *conn, int64_t deadline_us)
{
	int f, rc = 0;

	while (!rc && (f = PQflush(conn)) != 0)
		rc = f < 0 ? TS_EIO : wait_socket(conn, 1, deadline_us);
	return rc;
}

/* The next result, waiting for it no later than deadline_us. */
static int next_result(PGconn *conn, int64_t deadline_us, PGresult **out)
{
	int rc = 0;

	while (!rc && PQisBusy(conn)) {
		rc = wait_socket(conn, 0, deadline_us);
		if (!rc && !PQconsumeInput(conn))
			rc = TS_EIO;
	}
	*out = rc ? NULL : PQgetResult(conn);
	return rc;
}

static int check_status(PGresult *r, const char *sql, struct check_result *res)
{
	char why[CHECK_TEXT_MAX];
	ExecStatusType st = PQresultStatus(r);

	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
		return 0;
	check_pg_condense(r ? PQresultErrorMessage(r) : "no result", why, sizeof(why));
	/* A short statement says what failed; a long one would drown the reason. */
	return check_result_fail(res, TS_EFAILED, "%s failed: %s",
	                         strlen(sql) <= 24 ? sql : "query", why);
}

int check_pg_query(PGconn *conn, const char *sql, const struct check_pg_deadline *dl,
                   PGresult **out, struct check_result *res)
{
	PGresult *first = NULL, *r = NULL;
	int rc;

	*out = NULL;
	if (!PQsendQuery(conn, sql))
		return fail_conn(conn, TS_EUNAVAIL, "", res);
	rc = flush_all(conn, dl->at_us);
	while (!rc && !(rc = next_result(conn, dl->at_us, &r)) && r) {
		if (!first)
			first = r;
		else
			PQclear(r);
	}
	if (rc) {
		PQclear(first);
		return fail_wait(conn, rc, dl, res);
	}
	rc = check_status(first, sql, res);
	if (rc)
		PQclear(first);
	else
		*out = first;
	return rc;
}

static void server_version(PGconn *conn, char *out, size_t size)
{
	const char *v = PQparameterStatus(conn, "server_version");

	snprintf(out, size, "%.*s", v ? (int)strcspn(v, " ") : 1, v ? v : "?");
}

int check_pg_probe(const struct ts_config *cfg, int64_t timeout_ms, struct check_result *out)
{
	struct check_pg_deadline dl;
	char *secret = NULL, version[64];
	PGconn *conn = NULL;
	PGresult *r = NULL;
	int rc;

	check_pg_deadline_init(&dl, timeout_ms);
	rc = check_pg_secret(cfg->pg_url, &secret, out);
	check_pg_target(cfg->pg_url, secret, out);
	if (rc)
		goto out;
	rc = check_pg_connect(cfg->pg_url, &dl, &conn, out);
	if (rc)
		goto out;
	rc = check_pg_query(conn, "SELECT 1", &dl, &r, out);
	if (rc)
		goto out;
	server_version(conn, version, sizeof(version));
	rc = check_result_ok(out, "SELECT 1 answered by PostgreSQL %s (database %s, user %s)",
	                     version, PQdb(conn), PQuser(conn));
out:
	check_result_scrub(out->reason, sizeof(out->reason), secret);
	PQclear(r);
	PQfinish(conn);
	check_pg_secret_free(secret);
	return rc;
}
