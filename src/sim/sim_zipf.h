/*
 * Zipf-distributed ranks: rank k in [0, n) is drawn with probability
 * proportional to 1 / (k + 1)^s. The table holds the cumulative weights
 * (8 bytes per rank) and a draw is one binary search, so sampling cost does
 * not depend on s. Owned by its caller; read-only after init, so threads
 * may share one.
 */
#ifndef SIM_SIM_ZIPF_H
#define SIM_SIM_ZIPF_H

#include <stdint.h>

#include "base/error.h"
#include "sim/sim_rng.h"

struct sim_zipf {
	double *cdf; /* cdf[k] = P(rank <= k); cdf[n - 1] == 1 */
	uint32_t n;
	double s;
};

/* n >= 1, 0 <= s <= 10. Returns 0, TS_EINVAL or TS_ENOMEM. */
int sim_zipf_init(struct sim_zipf *z, uint32_t n, double s, struct ts_err *err);
void sim_zipf_release(struct sim_zipf *z);

/* A rank in [0, n). */
uint32_t sim_zipf_draw(const struct sim_zipf *z, struct sim_rng *r);

/* The probability of rank k. */
double sim_zipf_prob(const struct sim_zipf *z, uint32_t k);

#endif
