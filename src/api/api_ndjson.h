/*
 * The lines of an NDJSON batch (POST /plays): one play per line, split on
 * '\n', a '\r' before it dropped. A line of nothing but spaces, tabs and
 * carriage returns is not an item and takes no index, so counting the
 * items and walking them must agree: both go through api_ndjson_next.
 * Only the framing is read here; each line's JSON is the event parser's.
 */
#ifndef API_API_NDJSON_H
#define API_API_NDJSON_H

#include <stddef.h>

/* The next item of [*p, end): sets *line and *len (the line without its
 * '\n' or a '\r' before it; never empty, never holding a '\n'), moves *p
 * past it and returns 1; returns 0, with *p at end, when no item is left. */
int api_ndjson_next(const char **p, const char *end, const char **line, size_t *len);

/* Items in the n bytes at p. */
size_t api_ndjson_count(const char *p, size_t n);

#endif
