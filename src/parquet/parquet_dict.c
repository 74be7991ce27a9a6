/*
 * Open-addressing hash table for dictionary encoding; see parquet_dict.h.
 * Load factor stays at or below 1/2, so probes are short.
 */
#include "base/common.h"
#include "base/error.h"
#include "parquet/parquet_decode.h"
#include "parquet/parquet_dict.h"

/* Small to start: a writer of many open files (ingest) has tens of its
 * tables in use at once, and a column of few distinct values (a country,
 * a partition) should take a few cache lines, not 16 KB. */
#define MIN_SLOTS 64
#define BLOCK     64 /* values hashed and prefetched ahead of their probes */

void parquet_dict_init(struct parquet_dict *d, int vsize, size_t max_bytes)
{
	memset(d, 0, sizeof(*d));
	d->vsize = vsize;
	d->max_bytes = max_bytes;
	dbuf_init(&d->plain, max_bytes);
}

void parquet_dict_release(struct parquet_dict *d)
{
	free(d->slots);
	free(d->ents);
	dbuf_release(&d->plain);
	memset(d, 0, sizeof(*d));
}

void parquet_dict_reset(struct parquet_dict *d)
{
	if (d->slots && d->n)
		memset(d->slots, 0, (d->mask + 1) * sizeof(*d->slots));
	d->n = 0;
	dbuf_reset(&d->plain);
}

static inline uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= UINT64_C(0xff51afd7ed558ccd);
	x ^= x >> 33;
	x *= UINT64_C(0xc4ceb9fe1a85ec53);
	x ^= x >> 33;
	return x;
}

static inline uint64_t load64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static inline uint32_t load32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/* The last 1..7 bytes as one word, with fixed-size loads only (a memcpy of a
 * variable length would be a library call on this hot path). */
static inline uint64_t tail64(const uint8_t *s, size_t n)
{
	if (n >= 4)
		return (uint64_t)load32(s) << 32 | load32(s + n - 4);
	if (n)
		return (uint64_t)s[0] << 16 | (uint64_t)s[n / 2] << 8 | s[n - 1];
	return 0;
}

/* A fast 64-bit hash of n bytes (not cryptographic). */
static inline uint64_t hash_bytes(const void *p, size_t n)
{
	const uint8_t *s = p;
	uint64_t h = UINT64_C(0x9e3779b97f4a7c15) ^ (n * UINT64_C(0x100000001b3));
	size_t len = n;

	while (n > 8) {
		h = (h ^ mix64(load64(s))) * UINT64_C(0x9fb21c651e98df25);
		s += 8;
		n -= 8;
	}
	/* 1..8 bytes left: the last 8 of the value when it is that long. */
	return mix64(h ^ (len >= 8 ? load64(s + n - 8) : tail64(s, n)));
}

/* Equality of two byte strings of length n, without a library call for the
 * short ones dictionaries are full of. */
static inline bool bytes_eq(const uint8_t *a, const uint8_t *b, size_t n)
{
	if (n > 16)
		return !memcmp(a, b, n);
	if (n >= 8)
		return load64(a) == load64(b) && load64(a + n - 8) == load64(b + n - 8);
	return tail64(a, n) == tail64(b, n);
}

/* A fixed-width value's bits as a key, with a fixed-size load (a memcpy of
 * d->vsize bytes would be a library call, and a 4-byte store read back as 8
 * bytes stalls the store buffer). Little-endian: the key's first vs bytes
 * are the value's PLAIN encoding. */
static inline uint64_t fixed_key(size_t vs, const uint8_t *value)
{
	return vs == 8 ? load64(value) : load32(value);
}

static inline uint32_t key_hash(uint64_t key)
{
	return (uint32_t)mix64(key);
}

/* Hash and key of entry i, to refile it when the table grows. */
static uint32_t entry_hash(const struct parquet_dict *d, uint32_t i, uint64_t *key)
{
	uint32_t len;
	const uint8_t *v;

	if (!d->vsize) {
		*key = (uint64_t)d->ents[i].off << 32 | d->ents[i].len;
		return d->ents[i].hash;
	}
	v = parquet_dict_value(d, i, &len);
	*key = fixed_key((size_t)d->vsize, v);
	return key_hash(*key);
}

static int grow_slots(struct parquet_dict *d)
{
	size_t n = d->slots ? (d->mask + 1) * 2 : MIN_SLOTS;
	struct parquet_dict_slot *s = calloc(n, sizeof(*s));

	if (!s)
		return TS_ENOMEM;
	for (uint32_t i = 0; i < d->n; i++) {
		uint64_t key;
		uint32_t h = entry_hash(d, i, &key);
		size_t j = h & (n - 1);

		while (s[j].idx1)
			j = (j + 1) & (n - 1);
		s[j].hash = h;
		s[j].idx1 = i + 1;
		s[j].key = key;
	}
	free(d->slots);
	d->slots = s;
	d->mask = n - 1;
	return 0;
}

/* The empty slot for a new entry with hash h, where the probe ended at s:
 * the table first doubles if the entry would take it past half full. */
static inline int slot_for_new(struct parquet_dict *d, uint32_t h, struct parquet_dict_slot **s)
{
	size_t j;
	int rc;

	if ((d->n + 1) * 2 <= d->mask + 1)
		return 0;
	if ((rc = grow_slots(d)))
		return rc;
	for (j = h & d->mask; d->slots[j].idx1; j = (j + 1) & d->mask)
		;
	*s = &d->slots[j];
	return 0;
}

/* A probe that finds the value sets *idx and returns 0; one that does not
 * adds the value — unless the page body would pass max_bytes (TS_ETOOBIG),
 * checked before the table grows for an entry that does not fit. */
static inline int put_fixed(struct parquet_dict *d, size_t vs, uint64_t key, uint32_t h,
                            uint32_t *idx)
{
	struct parquet_dict_slot *s;
	size_t j;
	int rc;

	if (!d->slots && (rc = grow_slots(d)))
		return rc;
	for (j = h & d->mask; (s = &d->slots[j])->idx1; j = (j + 1) & d->mask) {
		if (s->hash == h && s->key == key) {
			*idx = s->idx1 - 1;
			return 0;
		}
	}
	if (d->plain.len + vs > d->max_bytes)
		return TS_ETOOBIG;
	if ((rc = slot_for_new(d, h, &s)) || (rc = dbuf_add(&d->plain, &key, vs)))
		return rc;
	s->hash = h;
	s->key = key;
	s->idx1 = (uint32_t)++d->n;
	*idx = (uint32_t)(d->n - 1);
	return 0;
}

static int add_bytes(struct parquet_dict *d, const void *p, size_t n, uint32_t h)
{
	uint32_t len = (uint32_t)n;
	int rc;

	if (d->n == d->ents_cap) {
		size_t cap = d->ents_cap ? d->ents_cap * 2 : 1024;
		struct parquet_dict_ent *e = realloc(d->ents, cap * sizeof(*e));

		if (!e)
			return TS_ENOMEM;
		d->ents = e;
		d->ents_cap = cap;
	}
	if ((rc = dbuf_add(&d->plain, &len, 4)) || (rc = dbuf_add(&d->plain, p, n)))
		return rc;
	d->ents[d->n].off = (uint32_t)(d->plain.len - n);
	d->ents[d->n].len = len;
	d->ents[d->n].hash = h;
	return 0;
}

static inline __attribute__((always_inline)) int put_bytes(struct parquet_dict *d, const void *p,
                                                           size_t n, uint32_t h, uint32_t *idx)
{
	struct parquet_dict_slot *s;
	size_t j;
	int rc;

	if (!d->slots && (rc = grow_slots(d)))
		return rc;
	for (j = h & d->mask; (s = &d->slots[j])->idx1; j = (j + 1) & d->mask) {
		if (s->hash == h && (uint32_t)s->key == n &&
		    bytes_eq((const uint8_t *)d->plain.buf + (s->key >> 32), p, n)) {
			*idx = s->idx1 - 1;
			return 0;
		}
	}
	if (n > d->max_bytes || d->plain.len + 4 + n > d->max_bytes)
		return TS_ETOOBIG;
	if ((rc = slot_for_new(d, h, &s)) || (rc = add_bytes(d, p, n, h)))
		return rc;
	s->hash = h;
	s->key = (uint64_t)d->ents[d->n].off << 32 | (uint32_t)n;
	s->idx1 = (uint32_t)++d->n;
	*idx = (uint32_t)(d->n - 1);
	return 0;
}

int parquet_dict_put_fixed(struct parquet_dict *d, const void *value, uint32_t *idx)
{
	size_t vs = (size_t)d->vsize;
	uint64_t key = fixed_key(vs, value);

	return put_fixed(d, vs, key, key_hash(key), idx);
}

int parquet_dict_put_bytes(struct parquet_dict *d, const void *p, size_t n, uint32_t *idx)
{
	return put_bytes(d, p, n, (uint32_t)hash_bytes(p, n), idx);
}

/* parquet_dict_put_many for one value width: vs is 4 or 8 (fixed-width
 * values, a constant where it is inlined) or 0 (struct parquet_bytes). */
static inline size_t put_many(struct parquet_dict *d, size_t vs, const void *values,
                              const uint8_t *valid, size_t n, uint32_t *idx, size_t *nidx, int *rc)
{
	const struct parquet_bytes *b = values;
	const uint8_t *fixed = values;
	size_t k = 0;
	uint64_t key[BLOCK];
	uint32_t h[BLOCK];
	/* A fixed-width value equal to the valid one before it (in this call)
	 * takes that one's index, idx[k - 1], without a hash or a probe:
	 * columns such as a file's Kafka partition or its records' ingest time
	 * come in long runs. */
	bool rep[BLOCK];
	uint64_t last = 0;
	bool have_last = false;

	*rc = 0;
	for (size_t at = 0; at < n; at += BLOCK) {
		size_t m = n - at < BLOCK ? n - at : BLOCK;

		for (size_t j = 0; j < m; j++) {
			size_t i = at + j;

			if (valid && !valid[i])
				continue;
			if (vs) {
				key[j] = fixed_key(vs, fixed + i * vs);
				rep[j] = have_last && key[j] == last;
				last = key[j];
				have_last = true;
				if (rep[j])
					continue; /* no hash, no probe (below) */
				h[j] = key_hash(key[j]);
			} else {
				h[j] = (uint32_t)hash_bytes(b[i].ptr, b[i].len);
			}
			/* Even a small table: among many files' tables it is
			 * rarely still in the cache. */
			if (d->slots)
				__builtin_prefetch(&d->slots[h[j] & d->mask]);
		}
		for (size_t j = 0; j < m; j++) {
			size_t i = at + j;

			if (valid && !valid[i])
				continue;
			if (vs && rep[j]) { /* the value before it was put: k > 0 */
				idx[k] = idx[k - 1];
				k++;
				continue;
			}
			if (vs)
				*rc = put_fixed(d, vs, key[j], h[j], &idx[k]);
			else
				*rc = put_bytes(d, b[i].len ? (const void *)b[i].ptr : "", b[i].len,
				                h[j], &idx[k]);
			if (*rc) {
				*nidx = k;
				return i;
			}
			k++;
		}
	}
	*nidx = k;
	return n;
}

size_t parquet_dict_put_many(struct parquet_dict *d, const void *values, const uint8_t *valid,
                             size_t n, uint32_t *idx, size_t *nidx, int *rc)
{
	if (d->vsize == 8)
		return put_many(d, 8, values, valid, n, idx, nidx, rc);
	if (d->vsize == 4)
		return put_many(d, 4, values, valid, n, idx, nidx, rc);
	return put_many(d, 0, values, valid, n, idx, nidx, rc);
}
