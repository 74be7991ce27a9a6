/*
 * Growable buffer with a ceiling; see dbuf.h.
 */
#include "base/common.h"
#include "base/dbuf.h"
#include "base/error.h"

void dbuf_init(struct dbuf *b, size_t max)
{
	b->buf = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void dbuf_release(struct dbuf *b)
{
	free(b->buf);
	dbuf_init(b, b->max);
}

void dbuf_reset(struct dbuf *b)
{
	b->len = 0;
	if (b->buf)
		b->buf[0] = '\0';
}

int dbuf_reserve(struct dbuf *b, size_t extra)
{
	size_t need, cap;
	char *p;

	if (extra > b->max || b->len > b->max - extra)
		return TS_ETOOBIG;
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	if (cap > b->max + 1)
		cap = b->max + 1;
	p = realloc(b->buf, cap);
	if (!p)
		return TS_ENOMEM;
	b->buf = p;
	b->cap = cap;
	return 0;
}

int dbuf_add(struct dbuf *b, const void *data, size_t len)
{
	int rc = dbuf_reserve(b, len);

	if (rc)
		return rc;
	if (len)
		memcpy(b->buf + b->len, data, len);
	b->len += len;
	b->buf[b->len] = '\0';
	return 0;
}

int dbuf_addstr(struct dbuf *b, const char *s)
{
	return dbuf_add(b, s, strlen(s));
}

int dbuf_addc(struct dbuf *b, char c)
{
	return dbuf_add(b, &c, 1);
}

int dbuf_vaddf(struct dbuf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n, rc;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return TS_EINVAL;
	rc = dbuf_reserve(b, (size_t)n);
	if (rc)
		return rc;
	vsnprintf(b->buf + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int dbuf_addf(struct dbuf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = dbuf_vaddf(b, fmt, ap);
	va_end(ap);
	return rc;
}

int dbuf_add_json_str(struct dbuf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p;
	int rc = dbuf_addc(b, '"');

	for (p = (const unsigned char *)s; !rc && *p; p++) {
		size_t run = 0;

		/* Copy runs that need no escaping in one go. */
		while (p[run] >= 0x20 && p[run] != '"' && p[run] != '\\' && p[run] != 0x7f)
			run++;
		if (run) {
			rc = dbuf_add(b, p, run);
			p += run - 1;
			continue;
		}
		if (*p == '"' || *p == '\\') {
			char esc[2] = {'\\', (char)*p};
			rc = dbuf_add(b, esc, 2);
		} else if (*p == '\n') {
			rc = dbuf_add(b, "\\n", 2);
		} else if (*p == '\t') {
			rc = dbuf_add(b, "\\t", 2);
		} else if (*p == '\r') {
			rc = dbuf_add(b, "\\r", 2);
		} else if (*p < 0x20 || *p == 0x7f) {
			char esc[6] = {'\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 15]};
			rc = dbuf_add(b, esc, 6);
		} else {
			rc = dbuf_addc(b, (char)*p);
		}
	}
	return rc ? rc : dbuf_addc(b, '"');
}

const char *dbuf_str(const struct dbuf *b)
{
	return b->buf ? b->buf : "";
}

char *dbuf_detach(struct dbuf *b, size_t *len)
{
	char *p = b->buf;

	if (len)
		*len = b->len;
	dbuf_init(b, b->max);
	return p;
}
