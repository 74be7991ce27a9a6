/*
 * JSON for one play. The simulator's own strings (ids, region codes, device
 * names) are plain ASCII by construction and go out verbatim; the city name
 * is the only text that needs escaping, so it alone goes through
 * dbuf_add_json_str. Timestamps are UTC with milliseconds, as the api's
 * canonical form has them, and so are coordinates.
 */
#include "base/common.h"
#include "base/timeutil.h"
#include "sim/sim_event.h"

#include <math.h>

static int add_geo(const struct sim_event *e, struct dbuf *out)
{
	int rc;

	if (!e->city)
		return 0;
	rc = dbuf_addf(out, ",\"country\":\"%s\",\"city\":", e->city->country);
	if (!rc)
		rc = dbuf_add_json_str(out, e->city->name);
	/* Four decimals (about 11 m), written as the api's canonical form has
	 * them (%.15g: no trailing zeros), so that the api sends the play as
	 * it came (docs/api.md, "Sent as it came"). */
	if (!rc)
		rc = dbuf_addf(out, ",\"lat\":%.15g,\"lon\":%.15g", round(e->lat * 1e4) / 1e4,
		               round(e->lon * 1e4) / 1e4);
	return rc;
}

int sim_event_json(const struct sim_event *e, struct dbuf *out)
{
	char ts[40];
	int rc;

	rc = time_format_rfc3339_ms(e->ts_us, ts, sizeof(ts));
	if (rc)
		return rc;
	rc = dbuf_addf(out,
	               "{\"event_id\":\"%s\",\"user_id\":\"%s\",\"song_id\":\"%s\","
	               "\"region\":\"%s\",\"ts\":\"%s\"",
	               e->event_id, e->user_id, e->song_id, e->region, ts);
	if (!rc)
		rc = add_geo(e, out);
	if (!rc)
		rc = dbuf_addf(out, ",\"device\":\"%s\",\"duration_ms\":%d}", e->device,
		               (int)e->duration_ms);
	return rc;
}
