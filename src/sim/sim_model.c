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
 * Who the listeners are comes from sim_crowd and which songs are hits from
 * sim_pop (seeded from the catalog, so it stays the same from run to run);
 * who plays what and when is seeded from the model's own seed.
 */
#include "base/common.h"
#include "base/timeutil.h"
#include "sim/sim_crowd.h"
#include "sim/sim_curve.h"
#include "sim/sim_heap.h"
#include "sim/sim_model.h"
#include "sim/sim_pop.h"

#include <math.h>

enum { ITEM_ARRIVAL = 1, ITEM_PLAY, ITEM_RETRY };

#define MAX_RETRY_SLOTS   (1u << 20)
#define MAX_SESSION_PLAYS 500
#define US                ((double)TIME_US_PER_SEC)

struct sim_model {
	struct sim_model_opts o;
	const struct sim_catalog *cat;
	struct sim_rng rng;
	char codes[SIM_MODEL_MAX_REGIONS][12];
	const char *code_ptrs[SIM_MODEL_MAX_REGIONS];
	size_t nregions;
	struct sim_pop *pop;
	struct sim_crowd crowd;
	double *sessions_per_us; /* per place, at curve == 1 */
	struct sim_heap heap;
	struct sim_event *retry;
	uint32_t *free_slots;
	uint32_t nretry, nfree, retry_cap;
	uint32_t user_key;
	double curve_max;
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
		if (!strncmp(m->codes[i], p, len) && !m->codes[i][len])
			return 0; /* listed twice: once is enough */
	if (m->nregions == SIM_MODEL_MAX_REGIONS)
		return ts_err_set(err, TS_EINVAL, "more than %d regions", SIM_MODEL_MAX_REGIONS);
	memcpy(m->codes[m->nregions], p, len);
	m->codes[m->nregions][len] = '\0';
	m->code_ptrs[m->nregions] = m->codes[m->nregions];
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

/* ---- listeners and their places --------------------------------------- */

/* Session arrival rates: a place's share of the listeners, of the rate. */
static int build_crowd(struct sim_model *m, struct ts_err *err)
{
	const struct sim_crowd *c = &m->crowd;
	int rc;

	rc = sim_crowd_init(&m->crowd, m->code_ptrs, m->nregions, m->o.listeners, &m->rng, err);
	if (rc)
		return rc;
	m->sessions_per_us = calloc(c->nplaces, sizeof(*m->sessions_per_us));
	if (!m->sessions_per_us)
		return ts_err_set(err, TS_ENOMEM, "model: out of memory");
	for (size_t k = 0; k < c->nplaces; k++)
		m->sessions_per_us[k] = m->o.rate * ((double)c->places[k].count / c->nlisteners) /
		                        m->o.plays_per_session / US;
	return 0;
}

/* ---- the event loop ----------------------------------------------------- */

static int64_t next_arrival(struct sim_model *m, uint32_t k, int64_t t)
{
	const struct sim_place *p = &m->crowd.places[k];
	double peak = m->sessions_per_us[k] * m->curve_max, tt = (double)t;

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
	it.t_us = next_arrival(m, k, t);
	return sim_heap_push(&m->heap, &it);
}

static int start_session(struct sim_model *m, const struct sim_item *arrival)
{
	double q = 1.0 / m->o.plays_per_session, extra = 0;
	struct sim_item it = {0};

	/* Geometric on 1, 2, ... with mean plays_per_session. */
	if (q < 1)
		extra = floor(log(1.0 - sim_rng_unit(&m->rng)) / log(1.0 - q));
	it.kind = ITEM_PLAY;
	it.t_us = arrival->t_us;
	it.who = sim_crowd_pick(&m->crowd, arrival->who, &m->rng);
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
	const struct sim_listener *l = &m->crowd.listeners[who];
	const struct sim_place *p = &m->crowd.places[l->place];

	snprintf(ev->user_id, sizeof(ev->user_id), "u%08x", mix32(who + m->user_key));
	ev->region_index = p->region;
	ev->region = m->codes[p->region];
	ev->city = p->city;
	ev->lat = l->lat;
	ev->lon = l->lon;
	ev->device = sim_crowd_device(l->device);
}

static void fill_play(struct sim_model *m, const struct sim_item *it, struct sim_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	fill_listener(m, it->who, ev);
	sim_rng_uuid(&m->rng, ev->event_id);
	ev->rank =
	    sim_pop_draw_rank(m->pop, ev->region_index, sim_model_trend(m, it->t_us), &m->rng);
	ev->song = sim_pop_song(m->pop, ev->region_index, ev->rank);
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
	const struct sim_place *p = &m->crowd.places[k];
	double mean = m->sessions_per_us[k] * sim_curve_at_utc(m->o.start_us, p->utc_offset_min) *
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

	for (uint32_t k = 0; k < m->crowd.nplaces && !rc; k++) {
		if (!m->crowd.places[k].count)
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
	m->curve_max = sim_curve_max();
	sim_rng_seed(&m->rng, o->seed);
	m->user_key = (uint32_t)sim_rng_next(&m->rng);
	sim_heap_init(&m->heap, heap_max(o));
	rc = parse_regions(m, o->regions, err);
	if (!rc)
		rc = sim_pop_new(cat, m->code_ptrs, m->nregions, o->zipf_s, &m->pop, err);
	if (!rc)
		rc = build_crowd(m, err);
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
	sim_pop_free(m->pop);
	sim_crowd_release(&m->crowd);
	free(m->sessions_per_us);
	sim_heap_release(&m->heap);
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
	return m->codes[i];
}

const struct sim_pop *sim_model_pop(const struct sim_model *m)
{
	return m->pop;
}

size_t sim_model_pending(const struct sim_model *m)
{
	return m->heap.n;
}
