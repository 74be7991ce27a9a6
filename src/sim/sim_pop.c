/*
 * Popularity behind sim_pop.h. A region's ranking is a sort of the catalog
 * by a score built from per-song normal draws, each from its own stream
 * seeded by (catalog seed, region, song), so a ranking does not depend on
 * which other regions are configured or in which order.
 *
 * Trends: at level x, a share RISE_SHARE * x of the plays goes uniformly
 * to the rising songs, and a draw that lands on a fading rank is redrawn
 * with probability FADE_DEPTH * x (rejection, so the other ranks keep their
 * proportions).
 */
#include "base/common.h"
#include "sim/sim_pop.h"
#include "sim/sim_zipf.h"

#define RISE_SHARE 0.10 /* share of plays going to rising songs at the trend's top */
#define FADE_DEPTH 0.85 /* how much of a fading song's plays are gone at the top */
#define FADE_RANKS 60

struct ranking {
	uint32_t *perm; /* rank -> song */
	uint32_t rising[SIM_POP_MAX_RISING];
	uint32_t nrising;
};

struct sim_pop {
	const struct sim_catalog *cat;
	uint32_t nsongs;
	struct sim_zipf zipf;
	struct ranking *regions;
	size_t nregions;
};

/* Each default region favours one genre a little. */
static const struct {
	const char *region, *genre;
} favourites[] = {
    {"NA", "hip-hop"},   {"SA", "latin"}, {"EU", "electronic"},
    {"AF", "afrobeats"}, {"AS", "k-pop"}, {"OC", "indie"},
};

struct keyed {
	double key;
	uint32_t song;
};

static int by_key_desc(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? 1 : -1;
	return x->song < y->song ? -1 : (x->song > y->song);
}

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ULL;
	return h;
}

static double stream_normal(uint64_t seed, uint64_t salt, uint32_t i)
{
	uint64_t st = seed ^ salt ^ ((uint64_t)i * 0xd1b54a32d192ed03ULL);
	struct sim_rng r;

	sim_rng_seed(&r, sim_rng_splitmix(&st));
	return sim_rng_normal(&r);
}

static const char *favourite_genre(const char *region)
{
	for (size_t i = 0; i < ARRAY_SIZE(favourites); i++)
		if (!strcmp(favourites[i].region, region))
			return favourites[i].genre;
	return NULL;
}

/* A global taste (shared by every region), a regional one, and a lift for
 * the favourite genre: hits travel between regions, charts still differ. */
static int rank_region(struct sim_pop *p, struct ranking *rk, const char *code, struct keyed *tmp)
{
	uint64_t seed = sim_catalog_seed(p->cat), salt = fnv1a(code);
	const char *fav = favourite_genre(code);

	rk->perm = malloc((size_t)p->nsongs * sizeof(*rk->perm));
	if (!rk->perm)
		return TS_ENOMEM;
	for (uint32_t i = 0; i < p->nsongs; i++) {
		tmp[i].key = stream_normal(seed, 0, i) + 0.6 * stream_normal(seed, salt, i);
		if (fav && !strcmp(sim_catalog_genre(p->cat, i), fav))
			tmp[i].key += 0.8;
		tmp[i].song = i;
	}
	qsort(tmp, p->nsongs, sizeof(*tmp), by_key_desc);
	for (uint32_t i = 0; i < p->nsongs; i++)
		rk->perm[i] = tmp[i].song;
	return 0;
}

/* Rising songs sit in the long tail, spread out from rank min(200, n/2). */
static void pick_rising(struct ranking *rk, uint32_t n)
{
	uint32_t start = n / 2 < 200 ? n / 2 : 200, stride;

	rk->nrising = n / 4 < SIM_POP_MAX_RISING ? n / 4 : SIM_POP_MAX_RISING;
	if (!rk->nrising)
		return;
	stride = (n - start) / rk->nrising;
	if (stride > 41)
		stride = 41;
	if (!stride)
		stride = 1;
	for (uint32_t j = 0; j < rk->nrising; j++)
		rk->rising[j] = start + j * stride;
}

static int rank_all(struct sim_pop *p, const char *const *codes)
{
	struct keyed *tmp = malloc((size_t)p->nsongs * sizeof(*tmp));
	int rc = 0;

	if (!tmp)
		return TS_ENOMEM;
	for (size_t i = 0; i < p->nregions && !rc; i++) {
		rc = rank_region(p, &p->regions[i], codes[i], tmp);
		pick_rising(&p->regions[i], p->nsongs);
	}
	free(tmp);
	return rc;
}

int sim_pop_new(const struct sim_catalog *cat, const char *const *codes, size_t n, double zipf_s,
                struct sim_pop **out, struct ts_err *err)
{
	struct sim_pop *p = calloc(1, sizeof(*p));
	int rc = TS_ENOMEM;

	*out = NULL;
	if (p)
		p->regions = calloc(n ? n : 1, sizeof(*p->regions));
	if (!p || !p->regions)
		goto out;
	p->cat = cat;
	p->nsongs = sim_catalog_size(cat);
	p->nregions = n;
	rc = sim_zipf_init(&p->zipf, p->nsongs, zipf_s, err);
	if (rc)
		goto out;
	rc = rank_all(p, codes);
out:
	if (rc == TS_ENOMEM)
		ts_err_set(err, rc, "popularity: out of memory ranking songs");
	if (rc)
		sim_pop_free(p);
	else
		*out = p;
	return rc;
}

void sim_pop_free(struct sim_pop *p)
{
	if (!p)
		return;
	for (size_t i = 0; p->regions && i < p->nregions; i++)
		free(p->regions[i].perm);
	free(p->regions);
	sim_zipf_release(&p->zipf);
	free(p);
}

int sim_pop_rank_fades(uint32_t rank, uint32_t nsongs)
{
	return rank < FADE_RANKS && rank < nsongs && rank % 3 == 1;
}

uint32_t sim_pop_draw_rank(const struct sim_pop *p, size_t region, double x, struct sim_rng *r)
{
	const struct ranking *rk = &p->regions[region];
	uint32_t rank;

	if (rk->nrising && sim_rng_chance(r, RISE_SHARE * x))
		return rk->rising[sim_rng_below(r, rk->nrising)];
	do
		rank = sim_zipf_draw(&p->zipf, r);
	while (sim_pop_rank_fades(rank, p->nsongs) && sim_rng_chance(r, FADE_DEPTH * x));
	return rank;
}

uint32_t sim_pop_song(const struct sim_pop *p, size_t region, uint32_t rank)
{
	return p->regions[region].perm[rank];
}

size_t sim_pop_rising(const struct sim_pop *p, size_t region, const uint32_t **ranks)
{
	*ranks = p->regions[region].rising;
	return p->regions[region].nrising;
}
