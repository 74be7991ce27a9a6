/*
 * The play event: validation of what clients POST, and its canonical JSON,
 * which is the Kafka record value. The rules are exactly the event contract
 * of DESIGN.md; docs/api.md states the policy choices (unknown fields are
 * rejected; event times outside [now - max_age, now + max_future] are
 * rejected).
 *
 * All functions are pure and thread-safe: they touch only their arguments.
 */
#ifndef EVENT_EVENT_H
#define EVENT_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/dbuf.h"

/* Field limits, in Unicode characters (code points). */
#define EVENT_ID_MAX_CHARS     64
#define EVENT_CITY_MAX_CHARS   128
#define EVENT_DEVICE_MAX_CHARS 32
#define EVENT_DURATION_MAX_MS  3600000
#define EVENT_COORD_TEXT_MAX   23

/* Each string holds up to its character limit in UTF-8 (4 bytes each). */
struct play_event {
	char event_id[37];
	char user_id[EVENT_ID_MAX_CHARS * 4 + 1];
	char song_id[EVENT_ID_MAX_CHARS * 4 + 1];
	char region[9];
	int64_t ts_us; /* event time, UTC, truncated to milliseconds */
	char country[3];
	char city[EVENT_CITY_MAX_CHARS * 4 + 1];
	char device[EVENT_DEVICE_MAX_CHARS * 4 + 1];
	double lat, lon;
	/* lat and lon as the play wrote them, when that is exactly what
	 * "%.15g" writes (event_to_json then copies them); else "". */
	char lat_text[EVENT_COORD_TEXT_MAX + 1], lon_text[EVENT_COORD_TEXT_MAX + 1];
	int64_t duration_ms;
	unsigned has_lat_lon : 1;
	unsigned has_duration : 1;
};

/* What a play is checked against. */
struct event_rules {
	const char *regions; /* "NA SA EU", as in the configuration */
	int64_t now_us;
	int64_t max_age_us;
	int64_t max_future_us;
};

/* Why a play was rejected: `field` is NULL for errors of the whole body. */
struct event_error {
	const char *field;
	const char *rule;
	char detail[200];
};

/*
 * Validates one event given as JSON text (buf need not be NUL-terminated).
 * Returns 0 with *ev filled, or TS_EINVAL with *why filled.
 */
int event_parse(const char *buf, size_t len, const struct event_rules *rules, struct play_event *ev,
                struct event_error *why);

/*
 * The fast path event_parse takes first: true with *ev filled when buf is a
 * valid play in exactly the canonical form event_to_json writes (strings
 * without escapes; see event.c for the exact form); false
 * otherwise, which says nothing about validity: only event_parse decides,
 * and it gives the same result for everything accepted here.
 *
 * as_written, when not NULL, is set to whether buf is byte for byte what
 * event_to_json writes for *ev (true for the canonical form the simulator
 * writes; false, say, for an upper-case event_id or a time with an
 * offset), so that a caller that needs the canonical JSON can take buf as
 * it is.
 */
bool event_parse_canonical(const char *buf, size_t len, const struct event_rules *rules,
                           struct play_event *ev, bool *as_written);

/* Same, for an already decoded JSON value (a jansson json_t *). */
int event_from_json(const void *json, const struct event_rules *rules, struct play_event *ev,
                    struct event_error *why);

/*
 * Appends the canonical JSON of ev: fixed key order, no blanks, ts in UTC
 * with milliseconds, absent optional fields omitted. Returns 0 or the dbuf
 * error.
 */
int event_to_json(const struct play_event *ev, struct dbuf *out);

/* Appends {"error":..,"field":..,"rule":..,"detail":..} for why. */
int event_error_to_json(const struct event_error *why, struct dbuf *out);

/* Whether s is an assigned ISO 3166-1 alpha-2 code. */
int event_is_country(const char *s);

#endif
