/*
 * The crowd behind sim_crowd.h. Listener counts are rounded cumulatively,
 * so the places always add up to exactly n listeners. Device mixes are
 * rough market shares: android leads where phones are cheaper.
 */
#include "base/common.h"
#include "sim/sim_crowd.h"

#include <math.h>

static const char *const devices[] = {"android", "ios", "web", "desktop", "speaker"};

/* Device shares per region, in the order of devices[]; the first row is
 * for regions not listed. */
static const struct {
	const char *region;
	double weight[ARRAY_SIZE(devices)];
} device_mix[] = {
    {"", {42, 33, 10, 9, 6}},  {"NA", {35, 45, 8, 7, 5}}, {"SA", {70, 18, 6, 4, 2}},
    {"EU", {45, 33, 9, 8, 5}}, {"AF", {80, 10, 6, 3, 1}}, {"AS", {62, 26, 6, 4, 2}},
    {"OC", {38, 45, 7, 6, 4}},
};

const char *sim_crowd_device(uint8_t device)
{
	return device < ARRAY_SIZE(devices) ? devices[device] : "unknown";
}

static const double *device_weights(const char *region)
{
	for (size_t i = 1; i < ARRAY_SIZE(device_mix); i++)
		if (!strcmp(device_mix[i].region, region))
			return device_mix[i].weight;
	return device_mix[0].weight;
}

static uint8_t draw_device(struct sim_rng *r, const double *w)
{
	double total = 0, u;

	for (size_t i = 0; i < ARRAY_SIZE(devices); i++)
		total += w[i];
	u = sim_rng_unit(r) * total;
	for (size_t i = 0; i < ARRAY_SIZE(devices); i++) {
		if (u < w[i])
			return (uint8_t)i;
		u -= w[i];
	}
	return 0;
}

static size_t count_places(const char *const *codes, size_t n_codes)
{
	size_t total = 0, n;

	for (size_t i = 0; i < n_codes; i++) {
		sim_geo_cities(codes[i], strlen(codes[i]), &n);
		total += n ? n : 1;
	}
	return total;
}

/* Fills the places of region ri from *k on, with their weights in w. */
static void region_places(struct sim_crowd *c, const char *code, uint32_t ri, size_t *k, double *w)
{
	size_t n;
	const struct sim_city *city = sim_geo_cities(code, strlen(code), &n);
	double rw = sim_geo_region_weight(code, strlen(code)), sum = 0;

	for (size_t j = 0; j < n; j++)
		sum += city[j].weight;
	for (size_t j = 0; j < (n ? n : 1); j++, (*k)++) {
		struct sim_place *p = &c->places[*k];

		p->region = ri;
		p->city = n ? &city[j] : NULL;
		p->utc_offset_min = n ? city[j].utc_offset_min : 0;
		w[*k] = n ? rw * city[j].weight / sum : rw;
	}
}

/* Gives each place its slice of the listeners, in proportion to weight. */
static void split_listeners(struct sim_crowd *c, const double *w)
{
	double total = 0, cum = 0;
	uint32_t n = c->nlisteners;

	for (size_t k = 0; k < c->nplaces; k++)
		total += w[k];
	for (size_t k = 0; k < c->nplaces; k++) {
		struct sim_place *p = &c->places[k];
		uint32_t end;

		p->first = (uint32_t)llround(cum / total * n);
		cum += w[k];
		end = k + 1 == c->nplaces ? n : (uint32_t)llround(cum / total * n);
		p->count = end - p->first;
	}
}

static double clampd(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* Listeners of one place: their devices, and homes scattered around the
 * city centre (a standard deviation of about 8 km). */
static void make_listeners(struct sim_crowd *c, size_t k, const char *code, struct sim_rng *r)
{
	const struct sim_place *p = &c->places[k];
	const double *w = device_weights(code);

	for (uint32_t i = p->first; i < p->first + p->count; i++) {
		struct sim_listener *l = &c->listeners[i];

		l->place = (uint16_t)k;
		l->device = draw_device(r, w);
		if (!p->city)
			continue;
		l->lat = (float)clampd(p->city->lat + 0.07 * sim_rng_normal(r), -90, 90);
		l->lon = (float)clampd(p->city->lon + 0.09 * sim_rng_normal(r), -180, 180);
	}
}

int sim_crowd_init(struct sim_crowd *c, const char *const *codes, size_t n_codes, uint32_t n,
                   struct sim_rng *r, struct ts_err *err)
{
	double *w = NULL;
	size_t k = 0;

	memset(c, 0, sizeof(*c));
	c->nplaces = count_places(codes, n_codes);
	if (c->nplaces > SIM_CROWD_MAX_PLACES)
		return ts_err_set(err, TS_EINVAL, "crowd: more than %d places",
		                  SIM_CROWD_MAX_PLACES);
	c->nlisteners = n;
	c->places = calloc(c->nplaces ? c->nplaces : 1, sizeof(*c->places));
	c->listeners = calloc(n ? n : 1, sizeof(*c->listeners));
	w = calloc(c->nplaces ? c->nplaces : 1, sizeof(*w));
	if (!c->places || !c->listeners || !w) {
		free(w);
		sim_crowd_release(c);
		return ts_err_set(err, TS_ENOMEM, "crowd: out of memory for %u listeners", n);
	}
	for (uint32_t ri = 0; ri < n_codes; ri++)
		region_places(c, codes[ri], ri, &k, w);
	split_listeners(c, w);
	free(w);
	for (k = 0; k < c->nplaces; k++)
		make_listeners(c, k, codes[c->places[k].region], r);
	return 0;
}

void sim_crowd_release(struct sim_crowd *c)
{
	free(c->places);
	free(c->listeners);
	memset(c, 0, sizeof(*c));
}

uint32_t sim_crowd_pick(const struct sim_crowd *c, size_t k, struct sim_rng *r)
{
	const struct sim_place *p = &c->places[k];
	double u = sim_rng_unit(r);
	uint32_t i = (uint32_t)(u * u * p->count); /* density ~ 1/sqrt: keen listeners first */

	return p->first + (i < p->count ? i : p->count - 1);
}
