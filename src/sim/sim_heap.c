/*
 * A textbook array heap (sift-up on push, sift-down on pop). Ties keep no
 * particular order, but the order is a function of the push/pop sequence
 * alone, which is all determinism needs.
 */
#include "base/common.h"
#include "base/error.h"
#include "sim/sim_heap.h"

void sim_heap_init(struct sim_heap *h, size_t max)
{
	memset(h, 0, sizeof(*h));
	h->max = max;
}

void sim_heap_release(struct sim_heap *h)
{
	free(h->v);
	memset(h, 0, sizeof(*h));
}

static int grow(struct sim_heap *h)
{
	size_t cap = h->cap ? h->cap * 2 : 64;
	struct sim_item *v;

	if (h->n >= h->max)
		return TS_ETOOBIG;
	if (cap > h->max)
		cap = h->max;
	v = realloc(h->v, cap * sizeof(*v));
	if (!v)
		return TS_ENOMEM;
	h->v = v;
	h->cap = cap;
	return 0;
}

int sim_heap_push(struct sim_heap *h, const struct sim_item *it)
{
	size_t i;
	int rc;

	if (h->n == h->cap && (rc = grow(h)))
		return rc;
	i = h->n++;
	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (h->v[parent].t_us <= it->t_us)
			break;
		h->v[i] = h->v[parent];
		i = parent;
	}
	h->v[i] = *it;
	return 0;
}

const struct sim_item *sim_heap_top(const struct sim_heap *h)
{
	if (!h->n)
		BUG("sim_heap_top on an empty heap");
	return &h->v[0];
}

void sim_heap_pop(struct sim_heap *h, struct sim_item *out)
{
	struct sim_item last;
	size_t i = 0;

	if (!h->n)
		BUG("sim_heap_pop on an empty heap");
	*out = h->v[0];
	last = h->v[--h->n];
	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= h->n)
			break;
		if (c + 1 < h->n && h->v[c + 1].t_us < h->v[c].t_us)
			c++;
		if (last.t_us <= h->v[c].t_us)
			break;
		h->v[i] = h->v[c];
		i = c;
	}
	if (h->n)
		h->v[i] = last;
}
