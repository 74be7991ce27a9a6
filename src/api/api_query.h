/*
 * The query-string parser of the read API: "a=1&b=x%20y" into decoded
 * key/value pairs, in order, repeats kept. Everything is bounded and
 * nothing is allocated: the pairs point into the struct's own buffer.
 *
 * Rules (each broken one is TS_EINVAL or TS_ETOOBIG with a reason):
 * at most API_QUERY_MAX_LEN raw bytes and API_QUERY_MAX_PARAMS pairs;
 * empty pieces ("a=1&&b=2", a trailing '&') are skipped; a key is never
 * empty and at most API_QUERY_MAX_KEY decoded bytes, a value at most
 * API_QUERY_MAX_VALUE; '%' is followed by two hex digits; '+' is a blank;
 * decoded text is valid UTF-8 without control characters (so no NUL).
 * "a" and "a=" both give a = "".
 *
 * Thread-safe: no state outside the caller's struct.
 */
#ifndef API_API_QUERY_H
#define API_API_QUERY_H

#include <stddef.h>

#include "base/error.h"

#define API_QUERY_MAX_LEN    2048
#define API_QUERY_MAX_PARAMS 16
#define API_QUERY_MAX_KEY    32
#define API_QUERY_MAX_VALUE  256

struct api_query_param {
	const char *key;   /* NUL-terminated, points into api_query.buf */
	const char *value; /* NUL-terminated, points into api_query.buf */
	size_t value_len;
};

struct api_query {
	size_t n;
	struct api_query_param p[API_QUERY_MAX_PARAMS];
	char buf[API_QUERY_MAX_LEN + 2 * API_QUERY_MAX_PARAMS + 2];
};

/* Parses the len bytes of qs (the part after '?', may be NULL when len is
 * 0). On error q->n is 0 and err says what is wrong (it may name the
 * parameter). */
int api_query_parse(const char *qs, size_t len, struct api_query *q, struct ts_err *err);

/* The first value of key, or NULL. */
const char *api_query_get(const struct api_query *q, const char *key);

/* How many times key occurs. */
size_t api_query_count(const struct api_query *q, const char *key);

#endif
