/*
 * libFuzzer target: the read API's query-string parser (api_query.c) and
 * the time values of its parameters. Any input is either refused with a
 * reason, or gives pairs within the documented bounds, free of control
 * characters, that survive being percent-encoded and parsed again.
 */
#include "base/common.h"
#include "api/api_query.h"
#include "api/api_read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void encode(const char *s, char *out, size_t *o)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
			out[(*o)++] = (char)c;
		} else {
			out[(*o)++] = '%';
			out[(*o)++] = hex[c >> 4];
			out[(*o)++] = hex[c & 15];
		}
	}
}

static void check_pairs(const struct api_query *q)
{
	if (q->n > API_QUERY_MAX_PARAMS)
		BUG("too many pairs");
	for (size_t i = 0; i < q->n; i++) {
		size_t kl = strlen(q->p[i].key);

		if (!kl || kl > API_QUERY_MAX_KEY || q->p[i].value_len > API_QUERY_MAX_VALUE ||
		    strlen(q->p[i].value) != q->p[i].value_len)
			BUG("pair %zu out of bounds", i);
		for (const char *c = q->p[i].value; *c; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				BUG("control character in a value");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct api_query q, q2;
	static char
	    again[3 * (API_QUERY_MAX_PARAMS * (API_QUERY_MAX_KEY + API_QUERY_MAX_VALUE + 2))];
	struct ts_err err;
	size_t o = 0;
	int64_t us;
	const char *why;

	if (api_query_parse((const char *)data, size, &q, &err)) {
		if (q.n || !err.msg[0])
			BUG("refused without a reason, or with pairs left");
		return 0;
	}
	check_pairs(&q);
	for (size_t i = 0; i < q.n; i++) {
		if (i)
			again[o++] = '&';
		encode(q.p[i].key, again, &o);
		again[o++] = '=';
		encode(q.p[i].value, again, &o);
		/* every value goes through the time parser too */
		if (!api_read_parse_time(q.p[i].value, &us, &why) && us < 0)
			BUG("negative time accepted");
	}
	/* Re-encoding may pass the raw-length cap (3 bytes per byte); only a
	 * re-encoding within it must parse to the same pairs. */
	if (o > API_QUERY_MAX_LEN)
		return 0;
	if (api_query_parse(again, o, &q2, &err))
		BUG("re-encoded query refused: %s", err.msg);
	if (q2.n != q.n)
		BUG("re-encoded query has %zu pairs, not %zu", q2.n, q.n);
	for (size_t i = 0; i < q.n; i++)
		if (strcmp(q.p[i].key, q2.p[i].key) || strcmp(q.p[i].value, q2.p[i].value))
			BUG("pair %zu changed", i);
	return 0;
}
