/*
 * The listeners: how many live in each place (a city of a region, or a
 * region without geography), where exactly, and on which device. Places of
 * one region are contiguous, and so are the listeners of one place, so a
 * place is a range of listener indices. Read-only after sim_crowd_init;
 * owned by its caller.
 */
#ifndef SIM_SIM_CROWD_H
#define SIM_SIM_CROWD_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "sim/sim_geo.h"
#include "sim/sim_rng.h"

#define SIM_CROWD_MAX_PLACES 65535

struct sim_place {
	uint32_t region;             /* index into the codes given to init */
	const struct sim_city *city; /* NULL: a region without geography */
	uint32_t first, count;       /* its listeners (count may be 0) */
	int utc_offset_min;
};

struct sim_listener {
	float lat, lon; /* 0 without geography */
	uint16_t place;
	uint8_t device; /* see sim_crowd_device */
};

struct sim_crowd {
	struct sim_place *places;
	size_t nplaces;
	struct sim_listener *listeners;
	uint32_t nlisteners;
};

/* Spreads n listeners over the places of the n_codes regions: regions by
 * their sim_geo weight, cities by theirs; homes around the city centre and
 * devices by the region's mix, drawn from r. Returns 0, TS_EINVAL (too
 * many places) or TS_ENOMEM; on failure c holds nothing to release. */
int sim_crowd_init(struct sim_crowd *c, const char *const *codes, size_t n_codes, uint32_t n,
                   struct sim_rng *r, struct ts_err *err);
void sim_crowd_release(struct sim_crowd *c);

/* One of place k's listeners (count > 0), the keen ones more often: the
 * first tenth of a place's listeners get about a third of the picks. */
uint32_t sim_crowd_pick(const struct sim_crowd *c, size_t k, struct sim_rng *r);

/* The name of a device: "android", "ios", "web", "desktop", "speaker". */
const char *sim_crowd_device(uint8_t device);

#endif
