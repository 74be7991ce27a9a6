/*
 * The discrete-event model of listeners and their plays.
 *
 * Listeners live in the cities of the configured regions (sim_crowd). Each
 * city starts sessions as a non-homogeneous Poisson process whose intensity
 * follows the daily curve (sim_curve) in the city's local time, scaled so
 * that all regions together average `rate` plays per second of event time.
 * A session picks one of the city's listeners and plays a geometric number
 * of songs back to back, drawn by sim_pop (Zipf over a per-region ranking;
 * a few songs per region rise and a few of the top ones fade as the run
 * goes on, at the trend level sim_model_trend gives). Plays are
 * often skipped early; a small share of plays is sent twice by the client
 * (same event_id, a few seconds later). The model starts warm, with the
 * sessions that would be open at the start time already under way, so the
 * rate is right from the first second.
 *
 * Events come out in the order the clients would send them (emit_us), and
 * everything is a function of the options: same options, same events.
 * Memory is proportional to listeners + songs x regions + the sessions that
 * are open at once (about rate x 3 minutes: sessions last about 25 minutes
 * and hold 8 plays), never to how many events have been drawn. One owner; not thread-safe.
 */
#ifndef SIM_SIM_MODEL_H
#define SIM_SIM_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "sim/sim_catalog.h"
#include "sim/sim_event.h"
#include "sim/sim_pop.h"

#define SIM_MODEL_MAX_LISTENERS 20000000
#define SIM_MODEL_MAX_RATE      1000000.0
#define SIM_MODEL_MAX_REGIONS   64

struct sim_model_opts {
	uint64_t seed;
	double rate;              /* plays per second of event time, daily mean; > 0 */
	uint32_t listeners;       /* >= 1 */
	double zipf_s;            /* popularity exponent, typically 0.8 ... 1.2 */
	double retry_share;       /* [0, 1): plays the client sends twice */
	double plays_per_session; /* mean, >= 1 */
	int64_t start_us;         /* event time of the model's start */
	const char *regions;      /* "NA SA EU ..." as in the regions setting */
};

/* Fills o with the documented defaults (seed 1, rate 100, ...). */
void sim_model_opts_default(struct sim_model_opts *o);

struct sim_model;

/* Builds the model; cat must outlive it. Returns 0, TS_EINVAL (bad
 * option, named in err) or TS_ENOMEM. */
int sim_model_new(const struct sim_model_opts *o, const struct sim_catalog *cat,
                  struct sim_model **out, struct ts_err *err);
void sim_model_free(struct sim_model *m);

/* When the next event will be sent (its emit_us); never decreases. */
int64_t sim_model_peek_us(struct sim_model *m);

/* Draws the next event. Returns 0, or TS_ETOOBIG / TS_ENOMEM when the open
 * sessions outgrow memory (the model is then unusable). */
int sim_model_next(struct sim_model *m, struct sim_event *ev, struct ts_err *err);

size_t sim_model_region_count(const struct sim_model *m);
const char *sim_model_region_code(const struct sim_model *m, size_t i);
/* The popularity model the plays are drawn from (owned by m). */
const struct sim_pop *sim_model_pop(const struct sim_model *m);

/* How far trends have gone at event time t: 0 at the start, 1 a day later,
 * back to 0 after two days (a triangle wave). */
double sim_model_trend(const struct sim_model *m, int64_t t_us);
/* Items in the event queue: open sessions, cities, pending retries. */
size_t sim_model_pending(const struct sim_model *m);

#endif
