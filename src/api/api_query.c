/*
 * The query-string parser; see api_query.h for the rules.
 */
#include "base/common.h"
#include "api/api_query.h"
#include "base/text.h"

/* Checks decoded text: UTF-8, no C0 controls, no DEL, no C1 controls. */
static const char *text_problem(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;

	for (size_t i = 0; i < n;) {
		size_t l = text_utf8_len(u + i, n - i);

		if (!l)
			return "is not valid UTF-8";
		if ((l == 1 && (u[i] < 0x20 || u[i] == 0x7f)) ||
		    (l == 2 && u[i] == 0xc2 && u[i + 1] < 0xa0))
			return "contains a control character";
		i += l;
	}
	return NULL;
}

/* Decodes src[0..n) into out (room for n bytes); *outlen gets the length. */
static int decode(const char *src, size_t n, char *out, size_t *outlen)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		int hi, lo;

		if (src[i] != '%') {
			out[o++] = src[i] == '+' ? ' ' : src[i];
			continue;
		}
		if (n - i < 3)
			return TS_EINVAL;
		hi = text_hex_value((unsigned char)src[i + 1]);
		lo = text_hex_value((unsigned char)src[i + 2]);
		if (hi < 0 || lo < 0)
			return TS_EINVAL;
		out[o++] = (char)(hi * 16 + lo);
		i += 2;
	}
	*outlen = o;
	return 0;
}

/* Decodes one piece (key or value) to the end of q->buf. */
static int take(struct api_query *q, size_t *used, const char *src, size_t n, size_t max,
                const char *what, const char *key, const char **out, size_t *outlen,
                struct ts_err *err)
{
	char *dst = q->buf + *used;
	const char *why;

	if (decode(src, n, dst, outlen))
		return ts_err_set(err, TS_EINVAL, "%s%s%s: bad percent-encoding", what,
		                  key ? " of " : "", key ? key : "");
	if (*outlen > max)
		return ts_err_set(err, TS_ETOOBIG, "%s%s%s: longer than %zu bytes", what,
		                  key ? " of " : "", key ? key : "", max);
	why = text_problem(dst, *outlen);
	if (why)
		return ts_err_set(err, TS_EINVAL, "%s%s%s %s", what, key ? " of " : "",
		                  key ? key : "", why);
	dst[*outlen] = '\0';
	*used += *outlen + 1;
	*out = dst;
	return 0;
}

static int parse_piece(struct api_query *q, size_t *used, const char *s, size_t n,
                       struct ts_err *err)
{
	const char *eq = memchr(s, '=', n);
	size_t klen = eq ? (size_t)(eq - s) : n, vlen = eq ? n - klen - 1 : 0, dlen;
	struct api_query_param *p;
	int rc;

	if (!klen)
		return ts_err_set(err, TS_EINVAL, "a parameter has no name");
	if (q->n == API_QUERY_MAX_PARAMS)
		return ts_err_set(err, TS_ETOOBIG, "more than %d parameters", API_QUERY_MAX_PARAMS);
	p = &q->p[q->n];
	rc = take(q, used, s, klen, API_QUERY_MAX_KEY, "parameter name", NULL, &p->key, &dlen, err);
	if (rc)
		return rc;
	rc = take(q, used, eq ? eq + 1 : "", vlen, API_QUERY_MAX_VALUE, "value", p->key, &p->value,
	          &p->value_len, err);
	if (rc)
		return rc;
	q->n++;
	return 0;
}

int api_query_parse(const char *qs, size_t len, struct api_query *q, struct ts_err *err)
{
	size_t used = 0, i = 0;
	int rc = 0;

	q->n = 0;
	if (len > API_QUERY_MAX_LEN)
		return ts_err_set(err, TS_ETOOBIG, "query string longer than %d bytes",
		                  API_QUERY_MAX_LEN);
	while (!rc && i < len) {
		const char *amp = memchr(qs + i, '&', len - i);
		size_t n = amp ? (size_t)(amp - (qs + i)) : len - i;

		if (n)
			rc = parse_piece(q, &used, qs + i, n, err);
		i += n + 1;
	}
	if (rc)
		q->n = 0;
	return rc;
}

const char *api_query_get(const struct api_query *q, const char *key)
{
	for (size_t i = 0; i < q->n; i++)
		if (!strcmp(q->p[i].key, key))
			return q->p[i].value;
	return NULL;
}

size_t api_query_count(const struct api_query *q, const char *key)
{
	size_t n = 0;

	for (size_t i = 0; i < q->n; i++)
		n += !strcmp(q->p[i].key, key);
	return n;
}
