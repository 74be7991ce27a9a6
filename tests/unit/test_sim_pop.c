/*
 * Unit tests of song popularity: rankings are permutations that depend on
 * the region and the catalog only, Zipf draws at trend level 0, rising
 * songs gaining and fading ranks losing at level 1.
 */
#include "tests/unit/test.h"
#include "sim/sim_pop.h"
#include "sim/sim_zipf.h"

#include <math.h>

TEST(sim_pop_rankings_are_permutations_per_region)
{
	const char *both[] = {"EU", "AS"}, *one[] = {"AS"};
	struct sim_catalog *cat = NULL;
	struct sim_pop *a = NULL, *b = NULL;
	char *seen = calloc(3000, 1);
	int differ = 0;

	REQUIRE(seen);
	REQUIRE(sim_catalog_new(5, 3000, &cat, NULL) == 0);
	REQUIRE(sim_pop_new(cat, both, 2, 1.0, &a, NULL) == 0);
	REQUIRE(sim_pop_new(cat, one, 1, 1.0, &b, NULL) == 0);
	for (uint32_t k = 0; k < 3000; k++) {
		uint32_t s = sim_pop_song(a, 0, k);

		REQUIRE(s < 3000);
		CHECK(!seen[s]);
		seen[s] = 1;
		/* Asia ranks the same whatever other regions are configured. */
		CHECK(sim_pop_song(a, 1, k) == sim_pop_song(b, 0, k));
		differ += sim_pop_song(a, 0, k) != sim_pop_song(a, 1, k);
	}
	CHECK(differ > 2900);
	sim_pop_free(a);
	sim_pop_free(b);
	sim_catalog_free(cat);
	free(seen);
}

/* Shares of draws at trend level x: rising songs, rank 1 (fading), rank 0. */
static void shares(const struct sim_pop *p, double x, double *rising, double *r1, double *r0)
{
	const uint32_t *ranks;
	size_t n = sim_pop_rising(p, 0, &ranks);
	struct sim_rng r;
	long hit = 0, one = 0, zero = 0;
	const long draws = 400000;

	sim_rng_seed(&r, 77);
	for (long i = 0; i < draws; i++) {
		uint32_t k = sim_pop_draw_rank(p, 0, x, &r);

		for (size_t j = 0; j < n; j++)
			hit += k == ranks[j];
		one += k == 1;
		zero += k == 0;
	}
	*rising = (double)hit / draws;
	*r1 = (double)one / draws;
	*r0 = (double)zero / draws;
}

TEST(sim_pop_trends)
{
	const char *codes[] = {"EU"};
	struct sim_catalog *cat = NULL;
	struct sim_pop *p = NULL;
	struct sim_zipf z;
	const uint32_t *ranks;
	double rise0, rise1, one0, one1, zero0, zero1;

	REQUIRE(sim_catalog_new(5, 5000, &cat, NULL) == 0);
	REQUIRE(sim_pop_new(cat, codes, 1, 1.0, &p, NULL) == 0);
	REQUIRE(sim_zipf_init(&z, 5000, 1.0, NULL) == 0);
	CHECK_INT(sim_pop_rising(p, 0, &ranks), SIM_POP_MAX_RISING);
	CHECK(ranks[0] >= 100 && ranks[SIM_POP_MAX_RISING - 1] < 5000);
	CHECK(sim_pop_rank_fades(1, 5000) && !sim_pop_rank_fades(0, 5000));
	shares(p, 0.0, &rise0, &one0, &zero0);
	shares(p, 1.0, &rise1, &one1, &zero1);
	/* Level 0 is plain Zipf. */
	CHECK(fabs(zero0 - sim_zipf_prob(&z, 0)) < 0.004);
	CHECK(fabs(one0 - sim_zipf_prob(&z, 1)) < 0.004);
	/* Level 1: a tenth of the plays to the rising songs; rank 1 keeps
	 * about 15 % of its plays; rank 0 (not fading) gains a little. */
	CHECK(rise0 < 0.01);
	CHECK(rise1 > 0.095 && rise1 < 0.12);
	CHECK(one1 < 0.25 * one0);
	CHECK(zero1 > 0.85 * zero0);
	sim_zipf_release(&z);
	sim_pop_free(p);
	sim_catalog_free(cat);
}

TEST(sim_pop_bad_exponent)
{
	const char *codes[] = {"EU"};
	struct sim_catalog *cat = NULL;
	struct sim_pop *p = (struct sim_pop *)&p;
	struct ts_err err;

	REQUIRE(sim_catalog_new(5, 10, &cat, NULL) == 0);
	CHECK(sim_pop_new(cat, codes, 1, -1, &p, &err) == TS_EINVAL);
	CHECK(p == NULL);
	sim_pop_free(NULL);
	sim_catalog_free(cat);
}
