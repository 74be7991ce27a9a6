/*
 * The daily listening curve: how busy listeners are at each moment of their
 * local day, relative to their daily average (the curve's mean over a day
 * is 1). Low before dawn, a commute bump at 8:00, a plateau through the
 * working day, the peak in the evening. Pure functions; any thread.
 */
#ifndef SIM_SIM_CURVE_H
#define SIM_SIM_CURVE_H

#include <stdint.h>

/* The curve at a local time of day, in seconds after local midnight
 * (any value; it is taken modulo a day). */
double sim_curve_at(double local_seconds);

/* An upper bound of the curve over the whole day. */
double sim_curve_max(void);

/* The curve at UTC instant t_us for a place utc_offset_min minutes ahead
 * of UTC. */
double sim_curve_at_utc(int64_t t_us, int utc_offset_min);

#endif
