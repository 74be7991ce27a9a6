/*
 * Zipf sampling by inversion of a precomputed cumulative table. With a
 * million songs the table is 8 MB and a draw costs about twenty comparisons,
 * which is cheaper than rejection methods for the exponents near 1 that
 * real play counts show.
 */
#include "base/common.h"
#include "sim/sim_zipf.h"

#include <math.h>

int sim_zipf_init(struct sim_zipf *z, uint32_t n, double s, struct ts_err *err)
{
	double sum = 0;

	memset(z, 0, sizeof(*z));
	if (n == 0 || !(s >= 0 && s <= 10))
		return ts_err_set(err, TS_EINVAL, "zipf: need n >= 1 and 0 <= s <= 10");
	z->cdf = malloc((size_t)n * sizeof(*z->cdf));
	if (!z->cdf)
		return ts_err_set(err, TS_ENOMEM, "zipf: out of memory for %u ranks", n);
	for (uint32_t k = 0; k < n; k++) {
		sum += pow((double)k + 1, -s);
		z->cdf[k] = sum;
	}
	for (uint32_t k = 0; k < n; k++)
		z->cdf[k] /= sum;
	z->cdf[n - 1] = 1.0;
	z->n = n;
	z->s = s;
	return 0;
}

void sim_zipf_release(struct sim_zipf *z)
{
	free(z->cdf);
	memset(z, 0, sizeof(*z));
}

uint32_t sim_zipf_draw(const struct sim_zipf *z, struct sim_rng *r)
{
	double u = sim_rng_unit(r);
	uint32_t lo = 0, hi = z->n - 1;

	/* The first k with cdf[k] > u; cdf[n - 1] == 1 > u always. */
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (z->cdf[mid] > u)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

double sim_zipf_prob(const struct sim_zipf *z, uint32_t k)
{
	if (k >= z->n)
		return 0;
	return k ? z->cdf[k] - z->cdf[k - 1] : z->cdf[0];
}
