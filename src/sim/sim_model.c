/*
 * The model behind sim_model.h. The event queue holds three kinds of item:
 * a city's next session arrival (one per city, always present), the next
 * play of an open session, and a client retry waiting to be resent. Popping
 * the earliest item and handling it is the whole simulation loop; arrivals
 * produce sessions, plays produce events, retries produce duplicate events.
 *
 * Arrivals use Lewis-Shedler thinning: candidates come at the city's peak
 * intensity and are kept with probability curve(t) / peak, which yields a
 * Poisson process whose intensity follows the curve exactly.
 *
 * Which songs are hits (the per-region rankings, the rising and fading
 * songs) is seeded from the catalog, so it stays the same from run to run;
 * who plays what and when is seeded from the model's own seed.
 */
#include "base/common.h"
#include "base/timeutil.h"
#include "sim/sim_curve.h"
#include "sim/sim_heap.h"
#include "sim/sim_model.h"
#include "sim/sim_zipf.h"

#include <math.h>

enum { ITEM_ARRIVAL = 1, ITEM_PLAY, ITEM_RETRY };

#define MAX_RISING        8
#define RISE_SHARE        0.10 /* share of plays going to rising songs at the trend's top */
#define FADE_DEPTH        0.85 /* how much of a fading song's plays are gone at the top */
#define FADE_RANKS        60
#define MAX_RETRY_SLOTS   (1u << 20)
#define MAX_SESSION_PLAYS 500
#define US                ((double)TIME_US_PER_SEC)

struct place {
	uint32_t region;
	const struct sim_city *city; /* NULL: a region without geography */
	uint32_t first, count;       /* its listeners */
	double sessions_per_us;      /* at curve == 1 */
	int utc_offset_min;
};

struct region {
	char code[12];
	uint32_t *perm; /* rank -> song */
	uint32_t rising[MAX_RISING];
	uint32_t nrising;
};

struct listener {
	float lat, lon;
	uint16_t place;
	uint8_t device;
};

struct sim_model {
	struct sim_model_opts o;
	const struct sim_catalog *cat;
	uint32_t nsongs;
	struct sim_rng rng;
	struct sim_zipf zipf;
	struct region regions[SIM_MODEL_MAX_REGIONS];
	size_t nregions;
	struct place *places;
	size_t nplaces;
	struct listener *listeners;
	struct sim_heap heap;
	struct sim_event *retry;
	uint32_t *free_slots;
	uint32_t nretry, nfree, retry_cap;
	uint32_t user_key;
	double curve_max;
};

static const char *const devices[] = {"android", "ios", "web", "desktop", "speaker"};

/* Device shares per region, in the order of devices[]; the first row is
 * for regions not listed. Android leads where phones are cheaper. */
static const struct {
	const char *region;
	double weight[ARRAY_SIZE(devices)];
} device_mix[] = {
    {"", {42, 33, 10, 9, 6}},  {"NA", {35, 45, 8, 7, 5}}, {"SA", {70, 18, 6, 4, 2}},
    {"EU", {45, 33, 9, 8, 5}}, {"AF", {80, 10, 6, 3, 1}}, {"AS", {62, 26, 6, 4, 2}},
    {"OC", {38, 45, 7, 6, 4}},
};

void sim_model_opts_default(struct sim_model_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->seed = 1;
	o->rate = 100;
	o->listeners = 100000;
	o->zipf_s = 1.0;
	o->retry_share = 0.01;
	o->plays_per_session = 8;
	o->regions = "NA SA EU AF AS OC";
}

/* ---- options and regions ------------------------------------------------ */

static int check_opts(const struct sim_model_opts *o, struct ts_err *err)
{
	if (!(o->rate > 0 && o->rate <= SIM_MODEL_MAX_RATE))
		return ts_err_set(err, TS_EINVAL, "rate must be in (0, %g]", SIM_MODEL_MAX_RATE);
	if (o->listeners < 1 || o->listeners > SIM_MODEL_MAX_LISTENERS)
		return ts_err_set(err, TS_EINVAL, "listeners must be in [1, %d]",
		                  SIM_MODEL_MAX_LISTENERS);
	if (!(o->retry_share >= 0 && o->retry_share < 1))
		return ts_err_set(err, TS_EINVAL, "retry share must be in [0, 1)");
	if (!(o->plays_per_session >= 1 && o->plays_per_session <= 100))
		return ts_err_set(err, TS_EINVAL, "plays per session must be in [1, 100]");
	if (!o->regions)
		return ts_err_set(err, TS_EINVAL, "no regions");
	return 0;
}

static int add_region(struct sim_model *m, const char *p, size_t len, struct ts_err *err)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] < 'A' || p[i] > 'Z')
			return ts_err_set(err, TS_EINVAL, "region codes are letters A-Z");
	if (len < 2 || len > 8)
		return ts_err_set(err, TS_EINVAL, "region codes have 2 to 8 letters");
	for (size_t i = 0; i < m->nregions; i++)
		if (!strncmp(m->regions[i].code, p, len) && !m->regions[i].code[len])
			return 0; /* listed twice: once is enough */
	if (m->nregions == SIM_MODEL_MAX_REGIONS)
		return ts_err_set(err, TS_EINVAL, "more than %d regions", SIM_MODEL_MAX_REGIONS);
	memcpy(m->regions[m->nregions].code, p, len);
	m->regions[m->nregions].code[len] = '\0';
	m->nregions++;
	return 0;
}

static int parse_regions(struct sim_model *m, const char *list, struct ts_err *err)
{
	int rc;

	for (const char *p = list; *p;) {
		size_t n;

		while (*p == ' ' || *p == ',')
			p++;
		n = strcspn(p, " ,");
		if (n && (rc = add_region(m, p, n, err)))
			return rc;
		p += n;
	}
	if (!m->nregions)
		return ts_err_set(err, TS_EINVAL, "no regions");
	return 0;
}

/* ---- popularity --------------------------------------------------------- */

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

/* Each default region favours one genre a little. */
static const struct {
	const char *region, *genre;
} favourites[] = {
    {"NA", "hip-hop"},   {"SA", "latin"}, {"EU", "electronic"},
    {"AF", "afrobeats"}, {"AS", "k-pop"}, {"OC", "indie"},
};

static const char *favourite_genre(const char *region)
{
	for (size_t i = 0; i < ARRAY_SIZE(favourites); i++)
		if (!strcmp(favourites[i].region, region))
			return favourites[i].genre;
	return NULL;
}

/* A region's ranking: a global taste (shared by every region) plus a
 * regional one and a lift for the region's favourite genre, so hits travel
 * between regions but charts still differ. */
static int rank_region(struct sim_model *m, struct region *r, struct keyed *tmp)
{
	uint64_t seed = sim_catalog_seed(m->cat), salt = fnv1a(r->code);
	const char *fav = favourite_genre(r->code);

	r->perm = malloc((size_t)m->nsongs * sizeof(*r->perm));
	if (!r->perm)
		return TS_ENOMEM;
	for (uint32_t i = 0; i < m->nsongs; i++) {
		tmp[i].key = stream_normal(seed, 0, i) + 0.6 * stream_normal(seed, salt, i);
		if (fav && !strcmp(sim_catalog_genre(m->cat, i), fav))
			tmp[i].key += 0.8;
		tmp[i].song = i;
	}
	qsort(tmp, m->nsongs, sizeof(*tmp), by_key_desc);
	for (uint32_t i = 0; i < m->nsongs; i++)
		r->perm[i] = tmp[i].song;
	return 0;
}

/* Rising songs sit in the long tail, spread out from rank min(200, n/2). */
static void pick_rising(struct sim_model *m, struct region *r)
{
	uint32_t n = m->nsongs, start = n / 2 < 200 ? n / 2 : 200, stride;

	r->nrising = n / 4 < MAX_RISING ? n / 4 : MAX_RISING;
	if (!r->nrising)
		return;
	stride = (n - start) / r->nrising;
	if (stride > 41)
		stride = 41;
	if (!stride)
		stride = 1;
	for (uint32_t j = 0; j < r->nrising; j++)
		r->rising[j] = start + j * stride;
}

int sim_model_rank_fades(uint32_t rank, uint32_t nsongs)
{
	return rank < FADE_RANKS && rank < nsongs && rank % 3 == 1;
}

static int build_popularity(struct sim_model *m, struct ts_err *err)
{
	struct keyed *tmp = malloc((size_t)m->nsongs * sizeof(*tmp));
	int rc = 0;

	if (!tmp)
		return ts_err_set(err, TS_ENOMEM, "model: out of memory ranking songs");
	for (size_t i = 0; i < m->nregions && !rc; i++) {
		rc = rank_region(m, &m->regions[i], tmp);
		pick_rising(m, &m->regions[i]);
	}
	free(tmp);
	if (rc)
		return ts_err_set(err, rc, "model: out of memory ranking songs");
	return sim_zipf_init(&m->zipf, m->nsongs, m->o.zipf_s, err);
}

/* ---- places and listeners ----------------------------------------------- */

static size_t count_places(const struct sim_model *m)
{
	size_t total = 0, n;

	for (size_t i = 0; i < m->nregions; i++) {
		sim_geo_cities(m->regions[i].code, strlen(m->regions[i].code), &n);
		total += n ? n : 1;
	}
	return total;
}

/* Fills the places of region ri from *k on, with their weights in w. */
static void region_places(struct sim_model *m, uint32_t ri, size_t *k, double *w)
{
	const char *code = m->regions[ri].code;
	size_t n;
	const struct sim_city *c = sim_geo_cities(code, strlen(code), &n);
	double rw = sim_geo_region_weight(code, strlen(code)), sum = 0;

	for (size_t j = 0; j < n; j++)
		sum += c[j].weight;
	for (size_t j = 0; j < (n ? n : 1); j++, (*k)++) {
		struct place *p = &m->places[*k];

		p->region = ri;
		p->city = n ? &c[j] : NULL;
		p->utc_offset_min = n ? c[j].utc_offset_min : 0;
		w[*k] = n ? rw * c[j].weight / sum : rw;
	}
}

/* Gives each place its slice of the listeners, in proportion to weight. */
static void split_listeners(struct sim_model *m, const double *w)
{
	double total = 0, cum = 0;
	uint32_t n = m->o.listeners;

	for (size_t k = 0; k < m->nplaces; k++)
		total += w[k];
	for (size_t k = 0; k < m->nplaces; k++) {
		struct place *p = &m->places[k];
		uint32_t end;

		p->first = (uint32_t)llround(cum / total * n);
		cum += w[k];
		end = k + 1 == m->nplaces ? n : (uint32_t)llround(cum / total * n);
		p->count = end - p->first;
		p->sessions_per_us =
		    m->o.rate * ((double)p->count / n) / m->o.plays_per_session / US;
	}
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

static double clampd(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* Listeners of one place: its devices, and homes scattered around the city
 * centre (a standard deviation of about 8 km). */
static void make_listeners(struct sim_model *m, const struct place *p, uint16_t k)
{
	const double *w = device_weights(m->regions[p->region].code);

	for (uint32_t i = p->first; i < p->first + p->count; i++) {
		struct listener *l = &m->listeners[i];

		l->place = k;
		l->device = draw_device(&m->rng, w);
		if (!p->city)
			continue;
		l->lat = (float)clampd(p->city->lat + 0.07 * sim_rng_normal(&m->rng), -90, 90);
		l->lon = (float)clampd(p->city->lon + 0.09 * sim_rng_normal(&m->rng), -180, 180);
	}
}

static int build_places(struct sim_model *m, struct ts_err *err)
{
	double *w;
	size_t k = 0;

	m->nplaces = count_places(m);
	m->places = calloc(m->nplaces, sizeof(*m->places));
	w = calloc(m->nplaces, sizeof(*w));
	m->listeners = calloc(m->o.listeners, sizeof(*m->listeners));
	if (!m->places || !w || !m->listeners) {
		free(w);
		return ts_err_set(err, TS_ENOMEM, "model: out of memory for %u listeners",
		                  m->o.listeners);
	}
	for (uint32_t ri = 0; ri < m->nregions; ri++)
		region_places(m, ri, &k, w);
	split_listeners(m, w);
	free(w);
	for (k = 0; k < m->nplaces; k++)
		make_listeners(m, &m->places[k], (uint16_t)k);
	return 0;
}

/* ---- the event loop ----------------------------------------------------- */

static int64_t next_arrival(struct sim_model *m, const struct place *p, int64_t t)
{
	double peak = p->sessions_per_us * m->curve_max, tt = (double)t;

	for (;;) {
		tt += sim_rng_exp(&m->rng, 1.0 / peak);
		if (sim_rng_unit(&m->rng) * m->curve_max <
		    sim_curve_at_utc((int64_t)tt, p->utc_offset_min))
			return (int64_t)tt;
	}
}

static int schedule_arrival(struct sim_model *m, uint32_t k, int64_t t)
{
	struct sim_item it = {0};

	it.kind = ITEM_ARRIVAL;
	it.who = k;
	it.t_us = next_arrival(m, &m->places[k], t);
	return sim_heap_push(&m->heap, &it);
}

/* Some listeners listen far more than others: index u^2 x count gives the
 * first tenth of a city's listeners about a third of its sessions. */
static uint32_t pick_listener(struct sim_model *m, uint32_t count)
{
	double u = sim_rng_unit(&m->rng);
	uint32_t i = (uint32_t)(u * u * count);

	return i < count ? i : count - 1;
}

static int start_session(struct sim_model *m, const struct sim_item *arrival)
{
	const struct place *p = &m->places[arrival->who];
	double q = 1.0 / m->o.plays_per_session, extra = 0;
	struct sim_item it = {0};

	/* Geometric on 1, 2, ... with mean plays_per_session. */
	if (q < 1)
		extra = floor(log(1.0 - sim_rng_unit(&m->rng)) / log(1.0 - q));
	it.kind = ITEM_PLAY;
	it.t_us = arrival->t_us;
	it.who = p->first + pick_listener(m, p->count);
	it.left = (uint16_t)(1 + fmin(extra, MAX_SESSION_PLAYS - 1));
	return sim_heap_push(&m->heap, &it);
}

double sim_model_trend(const struct sim_model *m, int64_t t_us)
{
	double days = (double)(t_us - m->o.start_us) / (86400.0 * US), ph;

	if (days <= 0)
		return 0;
	ph = fmod(days, 2.0);
	return ph < 1 ? ph : 2 - ph;
}

static uint32_t draw_rank(struct sim_model *m, const struct region *r, int64_t t)
{
	double x = sim_model_trend(m, t);
	uint32_t rank;

	if (r->nrising && sim_rng_chance(&m->rng, RISE_SHARE * x))
		return r->rising[sim_rng_below(&m->rng, r->nrising)];
	do
		rank = sim_zipf_draw(&m->zipf, &m->rng);
	while (sim_model_rank_fades(rank, m->nsongs) && sim_rng_chance(&m->rng, FADE_DEPTH * x));
	return rank;
}

/* How long the listener stays: early skips (more likely down the charts),
 * some stop part-way, most listen to the end. */
static int32_t listened_ms(struct sim_model *m, int32_t full_ms, uint32_t rank, uint8_t *skipped)
{
	double p_skip = 0.15 + 0.15 * fmin(1.0, rank / 2000.0), ms;

	*skipped = 0;
	if (sim_rng_chance(&m->rng, p_skip)) {
		*skipped = 1;
		ms = fmin(1000 + sim_rng_exp(&m->rng, 8000), 30000);
	} else if (sim_rng_chance(&m->rng, 0.10)) {
		ms = full_ms * (0.3 + 0.7 * sim_rng_unit(&m->rng));
	} else {
		ms = full_ms;
	}
	return (int32_t)fmin(ms, full_ms);
}

/* A keyed bijection on 32 bits: distinct listeners get distinct ids. */
static uint32_t mix32(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352dU;
	x ^= x >> 15;
	x *= 0x846ca68bU;
	x ^= x >> 16;
	return x;
}

static void fill_listener(struct sim_model *m, uint32_t who, struct sim_event *ev)
{
	const struct listener *l = &m->listeners[who];
	const struct place *p = &m->places[l->place];

	snprintf(ev->user_id, sizeof(ev->user_id), "u%08x", mix32(who + m->user_key));
	ev->region_index = p->region;
	ev->region = m->regions[p->region].code;
	ev->city = p->city;
	ev->lat = l->lat;
	ev->lon = l->lon;
	ev->device = devices[l->device];
}

static void fill_play(struct sim_model *m, const struct sim_item *it, struct sim_event *ev)
{
	const struct region *r;

	memset(ev, 0, sizeof(*ev));
	fill_listener(m, it->who, ev);
	r = &m->regions[ev->region_index];
	sim_rng_uuid(&m->rng, ev->event_id);
	ev->rank = draw_rank(m, r, it->t_us);
	ev->song = r->perm[ev->rank];
	sim_catalog_song_id(ev->song, ev->song_id);
	ev->duration_ms =
	    listened_ms(m, sim_catalog_duration_ms(m->cat, ev->song), ev->rank, &ev->skipped);
	ev->ts_us = it->t_us;
	ev->emit_us = it->t_us;
}

/* Retry slots and their free list grow together, up to MAX_RETRY_SLOTS. */
static int grow_retry(struct sim_model *m)
{
	uint32_t cap = m->retry_cap ? m->retry_cap * 2 : 1024;
	struct sim_event *r;
	uint32_t *f;

	if (m->retry_cap >= MAX_RETRY_SLOTS)
		return TS_ETOOBIG;
	r = realloc(m->retry, cap * sizeof(*r));
	if (!r)
		return TS_ENOMEM;
	m->retry = r;
	f = realloc(m->free_slots, cap * sizeof(*f));
	if (!f)
		return TS_ENOMEM;
	m->free_slots = f;
	m->retry_cap = cap;
	return 0;
}

/* The client resends the same play a little later: a lost response. */
static int maybe_retry(struct sim_model *m, const struct sim_event *ev)
{
	struct sim_item it = {0};
	uint32_t slot;

	if (!sim_rng_chance(&m->rng, m->o.retry_share))
		return 0;
	if (m->nfree)
		slot = m->free_slots[--m->nfree];
	else if (m->nretry < m->retry_cap || !grow_retry(m))
		slot = m->nretry++;
	else
		return 0; /* a flood of pending retries: drop this one */
	m->retry[slot] = *ev;
	m->retry[slot].duplicate = 1;
	m->retry[slot].emit_us = ev->ts_us + 500000 + (int64_t)sim_rng_exp(&m->rng, 4 * US);
	it.kind = ITEM_RETRY;
	it.who = slot;
	it.t_us = m->retry[slot].emit_us;
	return sim_heap_push(&m->heap, &it);
}

static int next_play(struct sim_model *m, const struct sim_item *it, const struct sim_event *ev)
{
	struct sim_item nx = *it;

	if (it->left <= 1)
		return 0;
	nx.left--;
	nx.t_us = it->t_us + (int64_t)ev->duration_ms * 1000 + 300000 +
	          (int64_t)sim_rng_exp(&m->rng, 1.5 * US);
	return sim_heap_push(&m->heap, &nx);
}

static int handle_play(struct sim_model *m, const struct sim_item *it, struct sim_event *ev)
{
	int rc;

	fill_play(m, it, ev);
	rc = next_play(m, it, ev);
	if (!rc)
		rc = maybe_retry(m, ev);
	return rc;
}

int sim_model_next(struct sim_model *m, struct sim_event *ev, struct ts_err *err)
{
	struct sim_item it;
	int rc = 0;

	for (;;) {
		sim_heap_pop(&m->heap, &it);
		if (it.kind == ITEM_PLAY) {
			rc = handle_play(m, &it, ev);
			break;
		}
		if (it.kind == ITEM_RETRY) {
			*ev = m->retry[it.who];
			m->free_slots[m->nfree++] = it.who;
			break;
		}
		rc = start_session(m, &it);
		if (!rc)
			rc = schedule_arrival(m, it.who, it.t_us);
		if (rc)
			break;
	}
	if (rc)
		return ts_err_set(err, rc, "model: too many open sessions (%zu)", m->heap.n);
	return 0;
}

int64_t sim_model_peek_us(struct sim_model *m)
{
	return sim_heap_top(&m->heap)->t_us;
}

/* ---- set-up ------------------------------------------------------------- */

/* A play plus the gap before the next lasts about this long on average
 * (skips, partial and full listens of ~3.6-minute songs). */
#define MEAN_PLAY_S 175.0

/* The model starts warm: each city already has the sessions that would be
 * waiting for their next play at that time of its day, instead of a cold
 * start where the rate would take half an hour to build up. By Little's law
 * they number arrivals x (plays per session - 1) x MEAN_PLAY_S; their next
 * play is spread over one play's length, and as session lengths are
 * geometric the plays still to come have the same law as a new session's. */
static int warm_place(struct sim_model *m, uint32_t k)
{
	const struct place *p = &m->places[k];
	double mean = p->sessions_per_us * sim_curve_at_utc(m->o.start_us, p->utc_offset_min) *
	              (m->o.plays_per_session - 1) * MEAN_PLAY_S * US;
	double n = floor(mean + sqrt(mean) * sim_rng_normal(&m->rng) + 0.5);
	struct sim_item it = {0};
	int rc = 0;

	it.kind = ITEM_ARRIVAL;
	it.who = k;
	for (double i = 0; i < n && !rc; i++) {
		it.t_us = m->o.start_us + (int64_t)(sim_rng_unit(&m->rng) * MEAN_PLAY_S * US);
		rc = start_session(m, &it);
	}
	return rc;
}

/* Sessions open at once average rate x session length (minutes of plays)
 * / plays per session; a listener may have two at once (phone and speaker),
 * so this does not depend on the listener count. The ceiling allows ten
 * times the mean, and stops a runaway before it takes the machine. */
static size_t heap_max(const struct sim_model_opts *o)
{
	double sessions = o->rate * 10 * 300 + 65536;

	return (size_t)fmin(sessions, 1 << 27) + MAX_RETRY_SLOTS + 4096;
}

static int start(struct sim_model *m, struct ts_err *err)
{
	int rc = 0;

	for (uint32_t k = 0; k < m->nplaces && !rc; k++) {
		if (!m->places[k].count)
			continue;
		rc = warm_place(m, k);
		if (!rc)
			rc = schedule_arrival(m, k, m->o.start_us);
	}
	if (rc)
		return ts_err_set(err, rc, "model: out of memory");
	return 0;
}

int sim_model_new(const struct sim_model_opts *o, const struct sim_catalog *cat,
                  struct sim_model **out, struct ts_err *err)
{
	struct sim_model *m = NULL;
	int rc;

	*out = NULL;
	rc = check_opts(o, err);
	if (rc)
		goto out;
	m = calloc(1, sizeof(*m));
	if (!m) {
		rc = ts_err_set(err, TS_ENOMEM, "model: out of memory");
		goto out;
	}
	m->o = *o;
	m->o.regions = NULL; /* parsed below; the caller's string is not kept */
	m->cat = cat;
	m->nsongs = sim_catalog_size(cat);
	m->curve_max = sim_curve_max();
	sim_rng_seed(&m->rng, o->seed);
	m->user_key = (uint32_t)sim_rng_next(&m->rng);
	sim_heap_init(&m->heap, heap_max(o));
	rc = parse_regions(m, o->regions, err);
	if (!rc)
		rc = build_popularity(m, err);
	if (!rc)
		rc = build_places(m, err);
	if (!rc)
		rc = start(m, err);
out:
	if (rc)
		sim_model_free(m);
	else
		*out = m;
	return rc;
}

void sim_model_free(struct sim_model *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nregions; i++)
		free(m->regions[i].perm);
	sim_zipf_release(&m->zipf);
	sim_heap_release(&m->heap);
	free(m->places);
	free(m->listeners);
	free(m->retry);
	free(m->free_slots);
	free(m);
}

size_t sim_model_region_count(const struct sim_model *m)
{
	return m->nregions;
}

const char *sim_model_region_code(const struct sim_model *m, size_t i)
{
	return m->regions[i].code;
}

uint32_t sim_model_region_song(const struct sim_model *m, size_t i, uint32_t rank)
{
	return m->regions[i].perm[rank];
}

size_t sim_model_pending(const struct sim_model *m)
{
	return m->heap.n;
}
