/*
 * One simulated play, as the model produces it, and its JSON form: exactly
 * the object a client POSTs to the api (see docs/simulator.md for the field
 * rules). A struct sim_event is a plain value; its pointers are to static
 * data or to the model that produced it, which must outlive it.
 */
#ifndef SIM_SIM_EVENT_H
#define SIM_SIM_EVENT_H

#include <stdint.h>

#include "base/dbuf.h"
#include "sim/sim_catalog.h"
#include "sim/sim_geo.h"
#include "sim/sim_rng.h"

#define SIM_USER_ID_SIZE 24

struct sim_event {
	char event_id[SIM_UUID_SIZE];
	char user_id[SIM_USER_ID_SIZE];
	char song_id[SIM_SONG_ID_SIZE];
	const char *region;          /* owned by the model */
	const struct sim_city *city; /* NULL: no geography for this region */
	const char *device;          /* static */
	double lat, lon;
	int64_t ts_us;   /* event time: when the play started */
	int64_t emit_us; /* when the client sends it: ts, later for a retry */
	int32_t duration_ms;
	/* Not sent; for tests and statistics. */
	uint32_t song, rank, region_index;
	uint8_t skipped, duplicate;
};

/* Appends the event as one compact JSON object (no newline).
 * Returns 0 or the dbuf error (TS_ETOOBIG, TS_ENOMEM). */
int sim_event_json(const struct sim_event *e, struct dbuf *out);

#endif
