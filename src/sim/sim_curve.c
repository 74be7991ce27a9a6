/*
 * The curve is 24 hourly knots joined by straight lines; the knots are
 * scaled once so that they average exactly 1, which keeps --rate the daily
 * mean whatever the shape. Knot values follow published streaming-traffic
 * shapes loosely: about a fifth of the average at 4:00, about 1.5 at 20:00.
 */
#include "base/common.h"
#include "base/timeutil.h"
#include "sim/sim_curve.h"

#include <math.h>

static const double knots[24] = {
    0.55, 0.35, 0.24, 0.20, 0.20, 0.28, 0.55, 0.95, 1.25, 1.10, 1.05, 1.10,
    1.20, 1.15, 1.10, 1.15, 1.30, 1.45, 1.50, 1.55, 1.55, 1.45, 1.20, 0.85,
};

/* The knots average to knot_sum / 24; piecewise-linear interpolation of a
 * periodic sequence keeps that mean. */
static double knot_scale(void)
{
	double sum = 0;

	for (int i = 0; i < 24; i++)
		sum += knots[i];
	return 24.0 / sum;
}

double sim_curve_at(double local_seconds)
{
	double h = fmod(local_seconds, 86400.0) / 3600.0, frac;
	int i;

	if (h < 0)
		h += 24;
	i = (int)h;
	if (i > 23)
		i = 23;
	frac = h - i;
	return (knots[i] * (1 - frac) + knots[(i + 1) % 24] * frac) * knot_scale();
}

double sim_curve_max(void)
{
	double m = 0;

	for (int i = 0; i < 24; i++)
		m = fmax(m, knots[i]);
	return m * knot_scale();
}

double sim_curve_at_utc(int64_t t_us, int utc_offset_min)
{
	int64_t local_s = t_us / TIME_US_PER_SEC + (int64_t)utc_offset_min * 60;

	return sim_curve_at((double)(local_s % 86400) + (double)(t_us % TIME_US_PER_SEC) / 1e6);
}
