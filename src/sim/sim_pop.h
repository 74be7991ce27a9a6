/*
 * Song popularity: which song a play in a given region goes to. Each region
 * ranks the whole catalog its own way (a shared global taste, a regional
 * one and a lift for the region's favourite genre); a play draws a rank
 * from a Zipf law and takes that region's song at that rank. Trends bend
 * this: a few rising songs per region gain a share of all plays as the
 * trend level goes from 0 to 1, and some top ranks fade.
 *
 * Everything here is seeded from the catalog, never from a run's seed, so
 * the hits are the same from run to run. Read-only after sim_pop_new: draws
 * take the caller's generator, so threads may share a sim_pop.
 */
#ifndef SIM_SIM_POP_H
#define SIM_SIM_POP_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "sim/sim_catalog.h"
#include "sim/sim_rng.h"

#define SIM_POP_MAX_RISING 8

struct sim_pop;

/* Ranks cat (which must outlive the result) for n regions, codes[i] being
 * region i's code. Returns 0, TS_EINVAL (bad zipf_s) or TS_ENOMEM. */
int sim_pop_new(const struct sim_catalog *cat, const char *const *codes, size_t n, double zipf_s,
                struct sim_pop **out, struct ts_err *err);
void sim_pop_free(struct sim_pop *p);

/* The rank of the next play in region i at trend level x (0 ... 1). */
uint32_t sim_pop_draw_rank(const struct sim_pop *p, size_t region, double x, struct sim_rng *r);

/* The song at a rank (< catalog size) of region i. */
uint32_t sim_pop_song(const struct sim_pop *p, size_t region, uint32_t rank);

/* The ranks of region i's rising songs into *ranks; returns how many. */
size_t sim_pop_rising(const struct sim_pop *p, size_t region, const uint32_t **ranks);

/* Whether a rank is one of the top ranks that fade. */
int sim_pop_rank_fades(uint32_t rank, uint32_t nsongs);

#endif
