/*
 * Instants on the simulator's command line: "now", a time relative to now
 * ("-24h", "-90m", "-2d", "-30s", "+5m"), or an RFC 3339 date-time with an
 * offset. Pure function of its arguments; any thread.
 */
#ifndef SIM_SIM_WHEN_H
#define SIM_SIM_WHEN_H

#include <stdint.h>

#include "base/error.h"

/* Parses s relative to now_us into *out_us (microseconds since the epoch).
 * Returns 0 or TS_EINVAL with the reason in err. */
int sim_when_parse(const char *s, int64_t now_us, int64_t *out_us, struct ts_err *err);

#endif
