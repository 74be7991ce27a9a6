/*
 * Where simulated listeners live: a fixed table of cities for each of the
 * default region codes, with country (ISO 3166-1 alpha-2), coordinates, the
 * standard-time UTC offset (daylight saving is ignored: the daily curve is
 * a model, not a calendar) and a relative weight for how many listeners a
 * city gets. Static, read-only data; safe from any thread.
 */
#ifndef SIM_SIM_GEO_H
#define SIM_SIM_GEO_H

#include <stddef.h>

struct sim_city {
	const char *region;  /* "EU" */
	const char *country; /* "DE" */
	const char *name;    /* "Berlin" */
	double lat, lon;
	int utc_offset_min; /* standard time */
	double weight;      /* share of the region's listeners, relative */
};

/* The cities of a region code (len bytes of code), in table order; *n is
 * set to their number, 0 (and NULL returned) for a code with no cities. */
const struct sim_city *sim_geo_cities(const char *code, size_t len, size_t *n);

/* A region's share of all listeners, relative (an average region's for
 * codes without cities). */
double sim_geo_region_weight(const char *code, size_t len);

#endif
