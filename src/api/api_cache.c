/*
 * The read answers' cache; see api_cache.h.
 */
#include "base/common.h"
#include "api/api_cache.h"
#include "api/api_internal.h"
#include "base/timeutil.h"

#include <pthread.h>

struct slot {
	char key[API_CACHE_MAX_KEY];
	int64_t expires_us; /* monotonic; 0 = empty */
	int flags;
	size_t len;
	char *body;
};

struct api_cache {
	pthread_mutex_t lock;
	struct slot slots[API_CACHE_SLOTS];
};

struct api_cache *api_cache_new(void)
{
	struct api_cache *c = calloc(1, sizeof(*c));

	if (c)
		pthread_mutex_init(&c->lock, NULL);
	return c;
}

void api_cache_free(struct api_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < API_CACHE_SLOTS; i++)
		free(c->slots[i].body);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static struct slot *slot_of(struct api_cache *c, const char *key)
{
	return &c->slots[text_fnv1a(key, strlen(key), TEXT_FNV_SEED) % API_CACHE_SLOTS];
}

int api_cache_get(struct api_cache *c, const char *key, struct dbuf *out, int *flags)
{
	struct slot *s;
	int hit;

	if (!c)
		return 0;
	s = slot_of(c, key);
	pthread_mutex_lock(&c->lock);
	hit = s->expires_us > time_mono_us() && !strcmp(s->key, key) &&
	      !dbuf_add(out, s->body, s->len);
	if (hit)
		*flags = s->flags;
	pthread_mutex_unlock(&c->lock);
	return hit;
}

void api_cache_put(struct api_cache *c, const char *key, const char *body, size_t len, int flags,
                   int64_t ttl_us)
{
	struct slot *s;
	char *copy, *old;

	if (!c || strlen(key) >= API_CACHE_MAX_KEY || len > API_CACHE_MAX_BODY)
		return;
	copy = malloc(len ? len : 1);
	if (!copy)
		return;
	memcpy(copy, body, len);
	s = slot_of(c, key);
	pthread_mutex_lock(&c->lock);
	old = s->body;
	snprintf(s->key, sizeof(s->key), "%s", key);
	s->body = copy;
	s->len = len;
	s->flags = flags;
	s->expires_us = time_mono_us() + ttl_us;
	pthread_mutex_unlock(&c->lock);
	free(old);
}
