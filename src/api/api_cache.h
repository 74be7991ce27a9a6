/*
 * A small in-memory cache of read answers (GET /api/top), so that a page
 * full of viewers polling the live chart costs the database one query per
 * chart per second, not one per viewer. Direct-mapped, API_CACHE_SLOTS
 * entries of at most API_CACHE_MAX_BODY bytes: memory is bounded whatever
 * the keys. Entries expire after the ttl given when stored (the read API
 * uses 1 s for live and provisional charts, 60 s for final ones).
 *
 * Threads: any; one mutex.
 */
#ifndef API_API_CACHE_H
#define API_API_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "base/dbuf.h"

#define API_CACHE_SLOTS    128
#define API_CACHE_MAX_BODY 16384
#define API_CACHE_MAX_KEY  64

struct api_cache;

struct api_cache *api_cache_new(void);
/* NULL is a no-op. */
void api_cache_free(struct api_cache *c);

/* On a hit, appends the body to out, sets *flags and returns 1; else 0. */
int api_cache_get(struct api_cache *c, const char *key, struct dbuf *out, int *flags);

/* Stores a copy (silently skipped when key or body is too large). */
void api_cache_put(struct api_cache *c, const char *key, const char *body, size_t len, int flags,
                   int64_t ttl_us);

#endif
