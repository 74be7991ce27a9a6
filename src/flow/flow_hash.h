/*
 * An open-addressing hash map from byte strings to uint32 values, for the
 * flows' joins and dedup (catalog lookups, event ids seen). Keys are not
 * copied: the caller keeps them alive and unchanged while the map lives.
 * At most max entries (TS_ETOOBIG past that).
 */
#ifndef FLOW_FLOW_HASH_H
#define FLOW_FLOW_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

struct flow_hash_slot {
	const char *key;
	uint32_t len;
	uint32_t value;
	uint64_t hash;
};

struct flow_hash {
	struct flow_hash_slot *slots;
	size_t cap, n, max;
};

void flow_hash_init(struct flow_hash *h, size_t max);
void flow_hash_release(struct flow_hash *h);

/* 64-bit FNV-1a of p[0..n). */
uint64_t flow_hash_bytes(const void *p, size_t n);

/* The value of key, or -1 when absent. */
int64_t flow_hash_get(const struct flow_hash *h, const void *key, size_t len);

/* Adds key -> value unless key is present; *added says which. */
int flow_hash_put(struct flow_hash *h, const void *key, size_t len, uint32_t value, int *added,
                  struct ts_err *err);

#endif
