/*
 * See flow_hash.h. Linear probing, capacity a power of two, at most half full.
 */
#include "base/common.h"
#include "flow/flow_hash.h"

void flow_hash_init(struct flow_hash *h, size_t max)
{
	memset(h, 0, sizeof(*h));
	h->max = max;
}

void flow_hash_release(struct flow_hash *h)
{
	free(h->slots);
	memset(h, 0, sizeof(*h));
}

uint64_t flow_hash_bytes(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t x = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++)
		x = (x ^ s[i]) * 0x100000001b3ull;
	return x;
}

static size_t find(const struct flow_hash *h, const void *key, size_t len, uint64_t hash)
{
	size_t mask = h->cap - 1, i = hash & mask;

	while (h->slots[i].key && (h->slots[i].hash != hash || h->slots[i].len != len ||
	                           memcmp(h->slots[i].key, key, len)))
		i = (i + 1) & mask;
	return i;
}

int64_t flow_hash_get(const struct flow_hash *h, const void *key, size_t len)
{
	size_t i;

	if (!h->cap)
		return -1;
	i = find(h, key, len, flow_hash_bytes(key, len));
	return h->slots[i].key ? (int64_t)h->slots[i].value : -1;
}

static int grow(struct flow_hash *h, struct ts_err *err)
{
	size_t cap = h->cap ? h->cap * 2 : 1024;
	struct flow_hash_slot *old = h->slots, *s = calloc(cap, sizeof(*s));
	size_t ocap = h->cap;

	if (!s)
		return ts_err_set(err, TS_ENOMEM, "out of memory for a hash of %zu entries", cap);
	h->slots = s;
	h->cap = cap;
	for (size_t i = 0; i < ocap; i++) {
		if (old[i].key)
			h->slots[find(h, old[i].key, old[i].len, old[i].hash)] = old[i];
	}
	free(old);
	return 0;
}

int flow_hash_put(struct flow_hash *h, const void *key, size_t len, uint32_t value, int *added,
                  struct ts_err *err)
{
	uint64_t hash = flow_hash_bytes(key, len);
	size_t i;
	int rc = 0;

	*added = 0;
	if ((h->n + 1) * 2 > h->cap)
		rc = grow(h, err);
	if (rc)
		return rc;
	i = find(h, key, len, hash);
	if (h->slots[i].key)
		return 0;
	if (h->n >= h->max)
		return ts_err_set(err, TS_ETOOBIG, "more than %zu distinct keys", h->max);
	h->slots[i] = (struct flow_hash_slot){len ? key : "", (uint32_t)len, value, hash};
	h->n++;
	*added = 1;
	return 0;
}
