/*
 * The simulator's event queue: a binary min-heap of small items ordered by
 * their time. Items are values (16 bytes); the heap grows by doubling up to
 * a ceiling fixed at init, so a runaway model fails with TS_ETOOBIG instead
 * of eating the machine. One owner; not thread-safe.
 */
#ifndef SIM_SIM_HEAP_H
#define SIM_SIM_HEAP_H

#include <stddef.h>
#include <stdint.h>

struct sim_item {
	int64_t t_us;  /* when it happens */
	uint32_t who;  /* a listener, place or retry slot, by kind */
	uint16_t left; /* plays left in the session */
	uint8_t kind;  /* the model's enum */
	uint8_t spare;
};

struct sim_heap {
	struct sim_item *v;
	size_t n, cap, max;
};

void sim_heap_init(struct sim_heap *h, size_t max);
void sim_heap_release(struct sim_heap *h);

/* Returns 0, TS_ETOOBIG (max items reached) or TS_ENOMEM. */
int sim_heap_push(struct sim_heap *h, const struct sim_item *it);

/* The earliest item; the heap must not be empty. */
const struct sim_item *sim_heap_top(const struct sim_heap *h);

/* Removes the earliest item into *out; the heap must not be empty. */
void sim_heap_pop(struct sim_heap *h, struct sim_item *out);

#endif
