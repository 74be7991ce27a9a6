/*
 * A growable byte buffer with a ceiling, after curl's dynbuf.
 *
 * Invariants: after dbuf_init, `buf` is either NULL (nothing appended yet) or
 * NUL-terminated at `len`; `len` never exceeds `max`. An append that would
 * pass `max` fails with TS_ETOOBIG and leaves the buffer unchanged, so memory
 * driven by outside input is always bounded by the caller's choice of max.
 * Not thread-safe: one owner at a time.
 */
#ifndef BASE_DBUF_H
#define BASE_DBUF_H

#include <stdarg.h>
#include <stddef.h>

struct dbuf {
	char *buf;
	size_t len;
	size_t cap;
	size_t max;
};

void dbuf_init(struct dbuf *b, size_t max);
void dbuf_release(struct dbuf *b);
/* Sets len to 0, keeping the allocation. */
void dbuf_reset(struct dbuf *b);

/* Each returns 0, TS_ETOOBIG (over max) or TS_ENOMEM. */
int dbuf_add(struct dbuf *b, const void *data, size_t len);
int dbuf_addstr(struct dbuf *b, const char *s);
int dbuf_addc(struct dbuf *b, char c);
int dbuf_addf(struct dbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int dbuf_vaddf(struct dbuf *b, const char *fmt, va_list ap);
/* Appends s as a JSON string literal, quotes included (s is valid UTF-8). */
int dbuf_add_json_str(struct dbuf *b, const char *s);

/* Makes room for extra more bytes (and the NUL) without appending them, so
 * a caller can write straight into buf + len and then add to len itself
 * (keeping len <= max and the NUL). 0, TS_ETOOBIG or TS_ENOMEM. */
int dbuf_reserve(struct dbuf *b, size_t extra);

/* The contents as a C string; "" when empty. Owned by b. */
const char *dbuf_str(const struct dbuf *b);

/* Hands the allocation to the caller (free() it) and resets b; NULL if empty. */
char *dbuf_detach(struct dbuf *b, size_t *len);

#endif
