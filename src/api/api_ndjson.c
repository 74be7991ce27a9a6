/*
 * See api_ndjson.h.
 */
#include "base/common.h"
#include "api/api_ndjson.h"

static int blank(const char *p, size_t len)
{
	for (size_t k = 0; k < len; k++)
		if (p[k] != ' ' && p[k] != '\t' && p[k] != '\r')
			return 0;
	return 1;
}

int api_ndjson_next(const char **p, const char *end, const char **line, size_t *len)
{
	while (*p < end) {
		const char *start = *p, *nl = memchr(start, '\n', (size_t)(end - start));
		size_t n = nl ? (size_t)(nl - start) : (size_t)(end - start);

		*p = nl ? nl + 1 : end;
		if (blank(start, n))
			continue;
		if (start[n - 1] == '\r') /* not blank: a byte before the '\r' remains */
			n--;
		*line = start;
		*len = n;
		return 1;
	}
	return 0;
}

size_t api_ndjson_count(const char *p, size_t n)
{
	const char *end = p + n, *line;
	size_t len, items = 0;

	while (api_ndjson_next(&p, end, &line, &len))
		items++;
	return items;
}
