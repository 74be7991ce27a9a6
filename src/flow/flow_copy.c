/*
 * See flow_copy.h.
 */
#include "base/common.h"
#include "db/db.h"
#include "flow/flow_copy.h"

int flow_copy_escape(struct dbuf *b, const char *s, size_t n)
{
	int rc = 0;
	size_t from = 0;

	if (n == 0)
		return 0; /* s may be NULL */
	for (size_t i = 0; !rc && i < n; i++) {
		const char *esc = s[i] == '\\'   ? "\\\\"
		                  : s[i] == '\t' ? "\\t"
		                  : s[i] == '\n' ? "\\n"
		                  : s[i] == '\r' ? "\\r"
		                                 : NULL;
		if (!esc)
			continue;
		rc = dbuf_add(b, s + from, i - from);
		rc = rc ? rc : dbuf_addstr(b, esc);
		from = i + 1;
	}
	return rc ? rc : dbuf_add(b, s + from, n - from);
}

static int pq_fail(struct flow_copy *c, const char *what, struct ts_err *err)
{
	const char *msg = PQerrorMessage(db_conn(c->db));

	return ts_err_set(err, TS_EFAILED, "postgresql: %s: %.*s", what, (int)strcspn(msg, "\n"),
	                  msg);
}

int flow_copy_begin(struct db *db, const char *sql, struct flow_copy *c, struct ts_err *err)
{
	PGresult *r = PQexec(db_conn(db), sql);
	int ok = r && PQresultStatus(r) == PGRES_COPY_IN;

	memset(c, 0, sizeof(*c));
	c->db = db;
	dbuf_init(&c->buf, FLOW_COPY_CHUNK * 2);
	if (!ok) {
		const char *msg = r ? PQresultErrorMessage(r) : PQerrorMessage(db_conn(db));
		ts_err_set(err, TS_EFAILED, "postgresql: %.*s", (int)strcspn(msg, "\n"), msg);
	}
	PQclear(r);
	return ok ? 0 : TS_EFAILED;
}

static int sep(struct flow_copy *c)
{
	return c->ncols++ ? dbuf_addc(&c->buf, '\t') : 0;
}

static int flush(struct flow_copy *c, struct ts_err *err)
{
	if (c->buf.len && PQputCopyData(db_conn(c->db), c->buf.buf, (int)c->buf.len) != 1)
		return pq_fail(c, "COPY", err);
	dbuf_reset(&c->buf);
	return 0;
}

static int full(struct ts_err *err)
{
	return ts_err_set(err, TS_ETOOBIG, "COPY row over %u bytes", FLOW_COPY_CHUNK);
}

int flow_copy_str(struct flow_copy *c, const char *s, size_t n, struct ts_err *err)
{
	int rc = sep(c);

	rc = rc ? rc : flow_copy_escape(&c->buf, s, n);
	return rc ? full(err) : 0;
}

/* v in decimal, without printf: a back-fill writes a million of them. */
static int add_int(struct dbuf *b, int64_t v)
{
	char s[24], *p = s + sizeof(s);
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

	do
		*--p = (char)('0' + u % 10);
	while (u /= 10);
	if (v < 0)
		*--p = '-';
	return dbuf_add(b, p, (size_t)(s + sizeof(s) - p));
}

int flow_copy_int(struct flow_copy *c, int64_t v, struct ts_err *err)
{
	int rc = sep(c);

	rc = rc ? rc : add_int(&c->buf, v);
	return rc ? full(err) : 0;
}

int flow_copy_null(struct flow_copy *c, struct ts_err *err)
{
	int rc = sep(c);

	rc = rc ? rc : dbuf_addstr(&c->buf, "\\N");
	return rc ? full(err) : 0;
}

int flow_copy_array_begin(struct flow_copy *c, struct ts_err *err)
{
	int rc = sep(c);

	c->nelems = 0;
	rc = rc ? rc : dbuf_addc(&c->buf, '{');
	return rc ? full(err) : 0;
}

/* Sends what the buffer holds once it reaches a chunk, even mid-row. */
static int elem_done(struct flow_copy *c, int rc, struct ts_err *err)
{
	if (rc)
		return full(err);
	c->nelems++;
	return c->buf.len >= FLOW_COPY_CHUNK ? flush(c, err) : 0;
}

int flow_copy_format_elem(struct dbuf *b, const char *s, size_t n)
{
	int rc = dbuf_addc(b, '"');
	size_t from = 0;

	/* Two layers: an array literal quotes the element and puts a backslash
	 * before " and \; COPY's text format then doubles every backslash
	 * (flow_copy_escape does the rest of its escapes). */
	for (size_t i = 0; !rc && i < n; i++) {
		if (s[i] != '"' && s[i] != '\\')
			continue;
		rc = flow_copy_escape(b, s + from, i - from);
		rc = rc ? rc : dbuf_addstr(b, s[i] == '"' ? "\\\\\"" : "\\\\\\\\");
		from = i + 1;
	}
	rc = rc ? rc : flow_copy_escape(b, s + from, n - from);
	return rc ? rc : dbuf_addc(b, '"');
}

int flow_copy_elem_str(struct flow_copy *c, const char *s, size_t n, struct ts_err *err)
{
	int rc = c->nelems ? dbuf_addc(&c->buf, ',') : 0;

	rc = rc ? rc : flow_copy_format_elem(&c->buf, s, n);
	return elem_done(c, rc, err);
}

int flow_copy_elem_raw(struct flow_copy *c, const char *e, size_t n, struct ts_err *err)
{
	int rc = c->nelems ? dbuf_addc(&c->buf, ',') : 0;

	rc = rc ? rc : dbuf_add(&c->buf, e, n);
	return elem_done(c, rc, err);
}

int flow_copy_elem_int(struct flow_copy *c, int64_t v, struct ts_err *err)
{
	int rc = c->nelems ? dbuf_addc(&c->buf, ',') : 0;

	rc = rc ? rc : add_int(&c->buf, v);
	return elem_done(c, rc, err);
}

int flow_copy_array_end(struct flow_copy *c, struct ts_err *err)
{
	return dbuf_addc(&c->buf, '}') ? full(err) : 0;
}

int flow_copy_end_row(struct flow_copy *c, struct ts_err *err)
{
	if (dbuf_addc(&c->buf, '\n'))
		return full(err);
	c->ncols = 0;
	c->rows++;
	return c->buf.len >= FLOW_COPY_CHUNK ? flush(c, err) : 0;
}

int flow_copy_finish(struct flow_copy *c, struct ts_err *err)
{
	int rc = flush(c, err);
	PGresult *r;

	dbuf_release(&c->buf);
	if (rc) {
		PQputCopyEnd(db_conn(c->db), "aborted");
		while ((r = PQgetResult(db_conn(c->db))))
			PQclear(r);
		c->db = NULL;
		return rc;
	}
	if (PQputCopyEnd(db_conn(c->db), NULL) != 1) {
		rc = pq_fail(c, "COPY end", err);
		c->db = NULL;
		return rc;
	}
	while ((r = PQgetResult(db_conn(c->db)))) {
		if (!rc && PQresultStatus(r) != PGRES_COMMAND_OK) {
			const char *msg = PQresultErrorMessage(r);
			rc = ts_err_set(err, TS_EFAILED, "postgresql: %.*s",
			                (int)strcspn(msg, "\n"), msg);
		}
		PQclear(r);
	}
	c->db = NULL;
	return rc;
}

void flow_copy_abort(struct flow_copy *c)
{
	PGresult *r;

	dbuf_release(&c->buf);
	if (!c->db)
		return;
	PQputCopyEnd(db_conn(c->db), "aborted");
	while ((r = PQgetResult(db_conn(c->db))))
		PQclear(r);
	c->db = NULL;
}
