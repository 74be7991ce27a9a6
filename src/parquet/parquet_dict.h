/*
 * The writer's dictionary for one column chunk: a hash table from value to
 * index whose entries are kept PLAIN-encoded, in index order, in one buffer
 * that is the dictionary page's body as it stands. Fixed-width values (INT32,
 * INT64, FLOAT, DOUBLE) are compared by their bits; byte arrays by content.
 */
#ifndef PARQUET_DICT_H
#define PARQUET_DICT_H

#include <stddef.h>
#include <stdint.h>

#include "base/dbuf.h"

struct parquet_dict_ent {
	uint32_t off, len, hash;
};

/* A hash slot: the entry's hash and key beside its index, so a probe reads
 * one cache line — the key is a fixed-width value's bits, or a byte array's
 * offset in `plain` (high 32 bits) and length (low 32). */
struct parquet_dict_slot {
	uint32_t hash;
	uint32_t idx1; /* entry index + 1; 0 = empty */
	uint64_t key;
};

struct parquet_dict {
	int vsize;        /* 4 or 8 for fixed-width values; 0 for byte arrays */
	size_t max_bytes; /* the page body may not grow past this */
	struct parquet_dict_slot *slots;
	size_t mask;                   /* slot count - 1 */
	struct parquet_dict_ent *ents; /* byte arrays only */
	size_t n, ents_cap;
	struct dbuf plain; /* dictionary page body */
};

void parquet_dict_init(struct parquet_dict *d, int vsize, size_t max_bytes);
void parquet_dict_release(struct parquet_dict *d);
/* Empties the dictionary, keeping its allocations. */
void parquet_dict_reset(struct parquet_dict *d);

/* Finds or adds a value; *idx is its index. TS_ETOOBIG when adding it would
 * take the page body past max_bytes (the dictionary is left unchanged),
 * TS_ENOMEM. */
int parquet_dict_put_fixed(struct parquet_dict *d, const void *value, uint32_t *idx);
int parquet_dict_put_bytes(struct parquet_dict *d, const void *p, size_t n, uint32_t *idx);

struct parquet_bytes;

/* Puts a batch: values[0..n) — fixed-width values vsize bytes apart, or for
 * byte arrays `struct parquet_bytes` — skipping position i when valid is
 * given and valid[i] is 0. The index of each value put goes to idx, in
 * order, and *nidx says how many. Returns how many of the n positions were
 * consumed: all of them, unless the dictionary is full (*rc = TS_ETOOBIG,
 * the value at the returned position not put) or memory ran out
 * (*rc = TS_ENOMEM). A batch hashes a block of values and prefetches their
 * slots before probing any, so a table larger than the cache costs one
 * memory latency per block rather than one per value. */
size_t parquet_dict_put_many(struct parquet_dict *d, const void *values, const uint8_t *valid,
                             size_t n, uint32_t *idx, size_t *nidx, int *rc);

/* The value of entry i: its bytes (without the length prefix) and length. */
static inline const uint8_t *parquet_dict_value(const struct parquet_dict *d, uint32_t i,
                                                uint32_t *len)
{
	if (d->vsize) {
		*len = (uint32_t)d->vsize;
		return (const uint8_t *)d->plain.buf + (size_t)i * (size_t)d->vsize;
	}
	*len = d->ents[i].len;
	return (const uint8_t *)d->plain.buf + d->ents[i].off;
}

#endif
