/*
 * libFuzzer target: the NDJSON framing of POST /plays (api_ndjson), which
 * reads whatever a client sends. Every item must lie inside the body, be
 * non-empty, hold no '\n' and not be only blanks; it must be a whole line,
 * less at most one '\r' before its '\n'; the items must come in order
 * without overlapping; and the count must be the number of items walked,
 * since the api sizes its answer by it.
 */
#include "base/common.h"
#include "api/api_ndjson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int only_blanks(const char *p, size_t n)
{
	for (size_t k = 0; k < n; k++)
		if (p[k] != ' ' && p[k] != '\t' && p[k] != '\r')
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data, *end = body + size, *p = body, *line;
	const char *after = body, *rest; /* where the last item ended */
	size_t len, items = 0;

	while (api_ndjson_next(&p, end, &line, &len)) {
		if (line < after || len == 0 || line + len > end)
			BUG("item %zu out of place", items);
		if (memchr(line, '\n', len) || only_blanks(line, len))
			BUG("item %zu is not a non-blank line", items);
		rest = line + len;
		if (rest < end && *rest == '\r')
			rest++;
		if (rest < end && *rest != '\n')
			BUG("item %zu is not a whole line", items);
		if (p != (rest < end ? rest + 1 : end))
			BUG("position %td after item %zu", p - body, items);
		after = line + len;
		items++;
	}
	if (p != end)
		BUG("the walk stopped at %td of %zu bytes", p - body, size);
	if (api_ndjson_count(body, size) != items)
		BUG("counted %zu items, walked %zu", api_ndjson_count(body, size), items);
	return 0;
}
