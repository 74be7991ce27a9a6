/*
 * Unit tests of the crowd: listeners add up, places are contiguous ranges
 * in region order, homes sit near their city, regions without cities get
 * one place without geography.
 */
#include "tests/unit/test.h"
#include "sim/sim_crowd.h"

#include <math.h>

TEST(sim_crowd_layout)
{
	const char *codes[] = {"EU", "QQ", "OC"};
	struct sim_crowd c;
	struct sim_rng r;
	uint32_t next = 0, eu = 0, qq = 0;

	sim_rng_seed(&r, 1);
	REQUIRE(sim_crowd_init(&c, codes, 3, 10001, &r, NULL) == 0);
	CHECK_INT(c.nplaces, 9 + 1 + 5); /* EU's nine cities, QQ, OC's five */
	for (size_t k = 0; k < c.nplaces; k++) {
		const struct sim_place *p = &c.places[k];

		CHECK(p->first == next);
		next += p->count;
		CHECK(k == 0 || p->region >= c.places[k - 1].region);
		eu += p->region == 0 ? p->count : 0;
		qq += p->region == 1 ? p->count : 0;
		CHECK((p->region == 1) == (p->city == NULL));
		for (uint32_t i = p->first; p->city && i < p->first + p->count; i++) {
			CHECK(c.listeners[i].place == k);
			CHECK(fabs(c.listeners[i].lat - p->city->lat) < 1.0);
		}
	}
	CHECK_INT(next, 10001);
	/* EU weighs 25, an unknown region an average 16.7, OC 5. */
	CHECK(eu > 4500 && eu < 5600);
	CHECK(qq > 3000 && qq < 3900);
	for (int i = 0; i < 1000; i++) {
		uint32_t who = sim_crowd_pick(&c, 3, &r);

		CHECK(who >= c.places[3].first && who < c.places[3].first + c.places[3].count);
	}
	for (uint32_t i = 0; i < c.nlisteners; i++)
		CHECK(strstr(" android ios web desktop speaker ",
		             sim_crowd_device(c.listeners[i].device)));
	CHECK_STR(sim_crowd_device(200), "unknown");
	sim_crowd_release(&c);
}
