/*
 * Validation of play events with jansson, which rejects invalid UTF-8, NUL
 * characters in strings (unless asked), duplicate keys (with
 * JSON_REJECT_DUPLICATES) and integers beyond int64. Everything else of the
 * contract is checked here, one rule per field, table-driven.
 */
#include "base/common.h"
#include "base/error.h"
#include "base/timeutil.h"
#include "event/event.h"

#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <pthread.h>

/* Officially assigned ISO 3166-1 alpha-2 codes. */
static const char countries[] =
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO "
    "BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ "
    "DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP "
    "GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG "
    "KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML "
    "MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE "
    "PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL "
    "SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM "
    "US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

/* One bit per two-letter code, built from `countries` on first use. */
static uint32_t country_bits[26];
static pthread_once_t country_once = PTHREAD_ONCE_INIT;

static void country_init(void)
{
	for (const char *p = countries; *p; p += p[2] ? 3 : 2)
		country_bits[p[0] - 'A'] |= 1u << (p[1] - 'A');
}

int event_is_country(const char *s)
{
	if (s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z' || s[2])
		return 0;
	pthread_once(&country_once, country_init);
	return (country_bits[s[0] - 'A'] >> (s[1] - 'A')) & 1;
}

static int reject(struct event_error *why, const char *field, const char *rule, const char *detail)
{
	why->field = field;
	why->rule = rule;
	snprintf(why->detail, sizeof(why->detail), "%s", detail ? detail : "");
	return TS_EINVAL;
}

/* Counts code points of valid UTF-8; returns -1 on a C0 control or DEL. */
static long utf8_chars(const char *s)
{
	long n = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return -1;
		if ((*p & 0xc0) != 0x80)
			n++;
	}
	return n;
}

/* A string field of 1..max characters copied into out (size >= max*4+1). */
static int take_string(json_t *v, const char *field, long min, long max, const char *rule,
                       char *out, size_t size, struct event_error *why)
{
	const char *s;
	long n;
	size_t len;

	if (!json_is_string(v))
		return reject(why, field, "must be a string", NULL);
	s = json_string_value(v);
	len = json_string_length(v);
	n = utf8_chars(s);
	if (n < 0 || strlen(s) != len)
		return reject(why, field, "must not contain control characters", NULL);
	if (n < min || n > max || len >= size)
		return reject(why, field, rule, NULL);
	memcpy(out, s, len + 1);
	return 0;
}

/* Hex digits, each mapped to its lower-case form; 0 for anything else. A
 * table, since uuid_take looks up 32 of them a record on ingest's path. */
static const char hex_lower[256] = {
    ['0'] = '0', ['1'] = '1', ['2'] = '2', ['3'] = '3', ['4'] = '4', ['5'] = '5',
    ['6'] = '6', ['7'] = '7', ['8'] = '8', ['9'] = '9', ['a'] = 'a', ['b'] = 'b',
    ['c'] = 'c', ['d'] = 'd', ['e'] = 'e', ['f'] = 'f', ['A'] = 'a', ['B'] = 'b',
    ['C'] = 'c', ['D'] = 'd', ['E'] = 'e', ['F'] = 'f'};

/* Whether s (36 bytes) is a UUID; writes it in lower case to out[37]. */
static bool uuid_take(const char *s, char *out)
{
	if (s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-')
		return false;
	for (int i = 0; i < 36; i++) {
		char h = hex_lower[(unsigned char)s[i]];

		if (!h && i != 8 && i != 13 && i != 18 && i != 23)
			return false;
		out[i] = h ? h : '-';
	}
	out[36] = '\0';
	return true;
}

static int take_uuid(json_t *v, struct play_event *ev, struct event_error *why)
{
	if (!json_is_string(v))
		return reject(why, "event_id", "must be a string", NULL);
	if (json_string_length(v) != 36 || !uuid_take(json_string_value(v), ev->event_id))
		return reject(why, "event_id", "must be a UUID (8-4-4-4-12 hex digits)", NULL);
	return 0;
}

/* Whether s (len bytes) is one of the configured regions; copies it. */
static bool region_take(const struct event_rules *rules, const char *s, size_t len,
                        struct play_event *ev)
{
	/* Called for every play: the list is walked in place, a few bytes per
	 * region, rather than with strcspn's per-call set-up. */
	for (const char *p = rules->regions; *p;) {
		const char *name;

		while (*p == ' ' || *p == ',')
			p++;
		name = p;
		while (*p && *p != ' ' && *p != ',')
			p++;
		if (p > name && (size_t)(p - name) == len && len < sizeof(ev->region) &&
		    !memcmp(name, s, len)) {
			memcpy(ev->region, s, len);
			ev->region[len] = '\0';
			return true;
		}
	}
	return false;
}

static int take_region(json_t *v, const struct event_rules *rules, struct play_event *ev,
                       struct event_error *why)
{
	if (!json_is_string(v))
		return reject(why, "region", "must be a string", NULL);
	if (!region_take(rules, json_string_value(v), json_string_length(v), ev))
		return reject(why, "region", "must be one of the configured regions",
		              rules->regions);
	return 0;
}

/* Whether us is outside [now - max_age, now + max_future]. */
static bool ts_out_of_bounds(const struct event_rules *rules, int64_t us)
{
	return us < rules->now_us - rules->max_age_us || us > rules->now_us + rules->max_future_us;
}

static int take_ts(json_t *v, const struct event_rules *rules, struct play_event *ev,
                   struct event_error *why)
{
	const char *reason = NULL;
	int64_t us;

	if (!json_is_string(v))
		return reject(why, "ts", "must be a string", NULL);
	if (time_parse_rfc3339(json_string_value(v), json_string_length(v), &us, &reason))
		return reject(why, "ts", "must be an RFC 3339 date-time with offset", reason);
	if (us < rules->now_us - rules->max_age_us)
		return reject(why, "ts", "must not be older than event.max-age-s",
		              "event time too far in the past");
	if (us > rules->now_us + rules->max_future_us)
		return reject(why, "ts", "must not be later than now + event.max-future-s",
		              "event time in the future");
	ev->ts_us = us - ((us % 1000) + 1000) % 1000;
	return 0;
}

static int take_country(json_t *v, struct play_event *ev, struct event_error *why)
{
	if (!json_is_string(v))
		return reject(why, "country", "must be a string", NULL);
	if (!event_is_country(json_string_value(v)))
		return reject(why, "country", "must be an ISO 3166-1 alpha-2 code", NULL);
	memcpy(ev->country, json_string_value(v), 3);
	return 0;
}

/* A coordinate as stored: -0 (a "-0.0", or a value too small for a double)
 * becomes 0, whose canonical form "0" reads back as the same number; "-0"
 * would read back as the integer 0, and the canonical JSON would change. */
static double coord_normal(double d)
{
	return d == 0 ? 0.0 : d;
}

static int take_coord(json_t *v, const char *field, double lim, double *out,
                      struct event_error *why)
{
	double d;

	if (!json_is_number(v))
		return reject(why, field, "must be a number", NULL);
	d = json_number_value(v);
	if (!isfinite(d) || d < -lim || d > lim)
		return reject(why, field,
		              lim == 90 ? "must be in [-90, 90]" : "must be in [-180, 180]", NULL);
	*out = coord_normal(d);
	return 0;
}

static int take_duration(json_t *v, struct play_event *ev, struct event_error *why)
{
	json_int_t n;

	if (!json_is_integer(v))
		return reject(why, "duration_ms", "must be an integer", NULL);
	n = json_integer_value(v);
	if (n < 0 || n > EVENT_DURATION_MAX_MS)
		return reject(why, "duration_ms", "must be in [0, 3600000]", NULL);
	ev->duration_ms = n;
	ev->has_duration = 1;
	return 0;
}

static const char *const known_fields[] = {"event_id", "user_id", "song_id",    "region",
                                           "ts",       "country", "city",       "lat",
                                           "lon",      "device",  "duration_ms"};

static int check_fields(json_t *obj, struct event_error *why)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v)
	{
		size_t i;

		for (i = 0; i < ARRAY_SIZE(known_fields); i++)
			if (!strcmp(key, known_fields[i]))
				break;
		if (i == ARRAY_SIZE(known_fields)) {
			why->field = NULL;
			why->rule = "unknown field: not part of the play event contract";
			snprintf(why->detail, sizeof(why->detail), "%.150s", key);
			return TS_EINVAL;
		}
	}
	return 0;
}

/* A required field, or the "is required" error. */
static json_t *need(json_t *obj, const char *field, struct event_error *why)
{
	json_t *v = json_object_get(obj, field);

	if (!v)
		reject(why, field, "is required", NULL);
	return v;
}

/* Checked in contract order, so the first broken field is the one reported. */
static int take_required(json_t *obj, const struct event_rules *rules, struct play_event *ev,
                         struct event_error *why)
{
	json_t *v;

	if (!(v = need(obj, "event_id", why)) || take_uuid(v, ev, why))
		return TS_EINVAL;
	if (!(v = need(obj, "user_id", why)) ||
	    take_string(v, "user_id", 1, EVENT_ID_MAX_CHARS, "must be 1 to 64 characters",
	                ev->user_id, sizeof(ev->user_id), why))
		return TS_EINVAL;
	if (!(v = need(obj, "song_id", why)) ||
	    take_string(v, "song_id", 1, EVENT_ID_MAX_CHARS, "must be 1 to 64 characters",
	                ev->song_id, sizeof(ev->song_id), why))
		return TS_EINVAL;
	if (!(v = need(obj, "region", why)) || take_region(v, rules, ev, why))
		return TS_EINVAL;
	if (!(v = need(obj, "ts", why)) || take_ts(v, rules, ev, why))
		return TS_EINVAL;
	return 0;
}

static int take_optional(json_t *obj, struct play_event *ev, struct event_error *why)
{
	json_t *v, *lat = json_object_get(obj, "lat"), *lon = json_object_get(obj, "lon");

	if ((v = json_object_get(obj, "country")) && take_country(v, ev, why))
		return TS_EINVAL;
	if ((v = json_object_get(obj, "city")) &&
	    take_string(v, "city", 0, EVENT_CITY_MAX_CHARS, "must be at most 128 characters",
	                ev->city, sizeof(ev->city), why))
		return TS_EINVAL;
	if ((v = json_object_get(obj, "device")) &&
	    take_string(v, "device", 0, EVENT_DEVICE_MAX_CHARS, "must be at most 32 characters",
	                ev->device, sizeof(ev->device), why))
		return TS_EINVAL;
	if ((v = json_object_get(obj, "duration_ms")) && take_duration(v, ev, why))
		return TS_EINVAL;
	if (!lat != !lon)
		return reject(why, lat ? "lon" : "lat", "lat and lon must be given together", NULL);
	if (lat) {
		if (take_coord(lat, "lat", 90, &ev->lat, why) ||
		    take_coord(lon, "lon", 180, &ev->lon, why))
			return TS_EINVAL;
		ev->has_lat_lon = 1;
	}
	return 0;
}

int event_from_json(const void *json, const struct event_rules *rules, struct play_event *ev,
                    struct event_error *why)
{
	json_t *obj = (json_t *)json;

	memset(ev, 0, sizeof(*ev));
	if (!json_is_object(obj))
		return reject(why, NULL, "a play must be a JSON object", NULL);
	if (check_fields(obj, why) || take_required(obj, rules, ev, why) ||
	    take_optional(obj, ev, why))
		return TS_EINVAL;
	return 0;
}

/*
 * The canonical fast path. Nearly every Kafka record is the canonical JSON
 * our api wrote (event_to_json), and building a jansson tree for it costs
 * about 4 µs a record, most of ingest's CPU. This scanner accepts exactly
 * that form and nothing else: the keys in canonical order, no blanks,
 * strings of valid UTF-8 without escapes or control characters (city and
 * device not empty: event_to_json leaves those out), lat/lon as
 * plain decimals with a fraction, duration_ms as plain digits (so a record
 * from another producer may well take jansson's path: only speed differs).
 * Anything else, and any record
 * that breaks a rule, makes it give up, and jansson decides as before — so
 * it never rejects and never needs an error message, and what it accepts
 * jansson accepts with the same result (tests/fuzz/fuzz_event.c checks
 * both on every input).
 */
struct scan {
	const char *p, *end;
};

/* Consumes the literal lit (n bytes). */
static bool scan_lit(struct scan *c, const char *lit, size_t n)
{
	if ((size_t)(c->end - c->p) < n || memcmp(c->p, lit, n))
		return false;
	c->p += n;
	return true;
}

#define SCAN_LIT(c, lit) scan_lit((c), (lit), sizeof(lit) - 1)

/* The length of the valid UTF-8 sequence of 2 to 4 bytes at q (RFC 3629:
 * no overlong forms, no surrogates, nothing past U+10FFFF, as jansson
 * checks), or 0. */
static size_t utf8_seq(const unsigned char *q, const unsigned char *end)
{
	unsigned char b = q[0], lo = 0x80, hi = 0xbf;
	size_t n;

	if (b >= 0xc2 && b <= 0xdf)
		n = 2;
	else if (b >= 0xe0 && b <= 0xef)
		n = 3, lo = b == 0xe0 ? 0xa0 : 0x80, hi = b == 0xed ? 0x9f : 0xbf;
	else if (b >= 0xf0 && b <= 0xf4)
		n = 4, lo = b == 0xf0 ? 0x90 : 0x80, hi = b == 0xf4 ? 0x8f : 0xbf;
	else
		return 0;
	if ((size_t)(end - q) < n || q[1] < lo || q[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (q[i] < 0x80 || q[i] > 0xbf)
			return 0;
	return n;
}

/* The high bit of each of the 8 bytes of w (the first in memory lowest)
 * that is not plain printable ASCII other than '"' and '\\': a control
 * character, DEL, a byte of a multi-byte UTF-8 sequence, the quote or the
 * backslash ("Bit Twiddling Hacks": a byte below n, a byte equal to v).
 * Bytes above a flagged one may be flagged wrongly (a borrow), never the
 * lowest: below it every byte is plain, so nothing borrows. */
static inline uint64_t special_bytes(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
	uint64_t below_20 = (w - ones * 0x20) & ~w, quote = w ^ (ones * '"'),
	         backslash = w ^ (ones * '\\'), del = w ^ (ones * 0x7f);

	quote = (quote - ones) & ~quote;
	backslash = (backslash - ones) & ~backslash;
	del = (del - ones) & ~del;
	return (w | below_20 | quote | backslash | del) & highs;
}

/* A string without escapes, control characters or DEL, of valid UTF-8 and
 * at most max characters (code points); the opening quote is consumed.
 * Plain ASCII goes eight bytes at a time, up to the first other byte (the
 * closing quote, say), which is looked at on its own. */
static bool scan_str(struct scan *c, size_t max, const char **s, size_t *len)
{
	const unsigned char *q = (const unsigned char *)c->p, *end = (const unsigned char *)c->end;
	size_t chars = 0;

	while (q < end) {
		size_t n;

		if (end - q >= 8) {
			uint64_t w, m;

			memcpy(&w, q, 8);
			m = special_bytes(w);
			n = m ? (size_t)__builtin_ctzll(m) / 8 : 8;
			q += n;
			if ((chars += n) > max)
				return false;
			if (!m)
				continue;
		}
		if (*q == '"')
			break;
		n = *q >= 0x20 && *q < 0x7f && *q != '\\' ? 1 : utf8_seq(q, end);
		if (!n || ++chars > max)
			return false;
		q += n;
	}
	if (q == end)
		return false;
	*s = c->p;
	*len = (size_t)((const char *)q - c->p);
	c->p = (const char *)q + 1;
	return true;
}

/* A string field of min..max characters copied NUL-terminated into out
 * (size >= max * 4 + 1). */
static bool scan_copy(struct scan *c, size_t min, size_t max, char *out)
{
	const char *s;
	size_t len;

	if (!scan_str(c, max, &s, &len) || len < min)
		return false;
	memcpy(out, s, len);
	out[len] = '\0';
	return true;
}

/* [-]digits.digits between p and end, when it has at most 15 digits: the
 * digits as an integer m (below 10^15, so exact as a double) divided by
 * 10^k for its k decimals (exact up to 10^22). One IEEE division rounds the
 * exact quotient to nearest, which is what a correctly rounded strtod
 * returns for the same decimal: the same double, without strtod's cost
 * (6 % of ingest's CPU). Longer numbers are left to strtod. */
static bool decimal_exact(const char *p, const char *end, double *out)
{
	static const double tens[16] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
	                                1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
	bool neg = *p == '-';
	uint64_t m = 0;
	int digits = 0, k = -1;

	for (p += neg; p < end; p++) {
		if (*p == '.') {
			k = 0;
			continue;
		}
		m = m * 10 + (uint64_t)(*p - '0');
		k += k >= 0;
		if (++digits > 15)
			return false;
	}
	if (k < 0)
		return false;
	*out = (double)m / tens[k];
	if (neg)
		*out = -*out;
	return true;
}

/*
 * Whether p[0..n), a number scan_decimal took, is what "%.15g" writes for
 * its value: at most 15 significant digits (so the double nearest to it
 * turns back into the same digits, DBL_DIG), no trailing zero after the
 * point (%g drops them), and at most three zeros between the point and the
 * first significant digit of a number below 1 (%g switches to an exponent
 * below 1e-4; a coordinate never reaches 1e15). "0.0" and "-0.0" fail the
 * trailing-zero rule, so a text kept is never a zero that coord_normal
 * changed.
 */
static bool is_g15(const char *p, size_t n)
{
	const char *q = p + (*p == '-'), *end = p + n, *f;

	if (end[-1] == '0')
		return false;
	if (*q != '0') /* every digit is significant: all but the point */
		return end - q - 1 <= 15;
	for (f = q + 2; f < end && *f == '0'; f++) /* "0." then zeros */
		;
	return f - (q + 2) <= 3 && end - f <= 15;
}

/* -?(0|[1-9][0-9]*)\.[0-9]+ , short enough to be %.15g output, as the
 * double jansson's strtod gives; text is set to the number when is_g15. */
static bool scan_decimal(struct scan *c, double lim, double *out, char *text)
{
	char num[32];
	const char *q = c->p, *digits;
	char *stop;
	size_t n;

	if (q < c->end && *q == '-')
		q++;
	digits = q;
	while (q < c->end && *q >= '0' && *q <= '9')
		q++;
	if (q == digits || (*digits == '0' && q - digits > 1) || q == c->end || *q != '.')
		return false;
	digits = ++q;
	while (q < c->end && *q >= '0' && *q <= '9')
		q++;
	n = (size_t)(q - c->p);
	if (q == digits || n >= sizeof(num))
		return false;
	if (!decimal_exact(c->p, q, out)) {
		memcpy(num, c->p, n);
		num[n] = '\0';
		*out = strtod(num, &stop);
		if (stop != num + n)
			return false;
	}
	if (!isfinite(*out) || *out < -lim || *out > lim)
		return false;
	*out = coord_normal(*out);
	if (n <= EVENT_COORD_TEXT_MAX && is_g15(c->p, n)) {
		memcpy(text, c->p, n);
		text[n] = '\0';
	}
	c->p = q;
	return true;
}

/* The optional fields, each in canonical order and each at most once. */
static bool scan_optional(struct scan *c, struct play_event *ev)
{
	if (SCAN_LIT(c, ",\"country\":\"")) {
		const char *s;
		size_t n;

		if (!scan_str(c, 2, &s, &n) || n != 2)
			return false;
		memcpy(ev->country, s, 2);
		if (!event_is_country(ev->country))
			return false;
	}
	if (SCAN_LIT(c, ",\"city\":\"") && !scan_copy(c, 1, EVENT_CITY_MAX_CHARS, ev->city))
		return false;
	if (SCAN_LIT(c, ",\"lat\":")) {
		if (!scan_decimal(c, 90, &ev->lat, ev->lat_text) || !SCAN_LIT(c, ",\"lon\":") ||
		    !scan_decimal(c, 180, &ev->lon, ev->lon_text))
			return false;
		ev->has_lat_lon = 1;
	}
	if (SCAN_LIT(c, ",\"device\":\"") && !scan_copy(c, 1, EVENT_DEVICE_MAX_CHARS, ev->device))
		return false;
	if (SCAN_LIT(c, ",\"duration_ms\":")) {
		int64_t v = 0;
		const char *digits = c->p;

		while (c->p < c->end && *c->p >= '0' && *c->p <= '9' && c->p - digits < 8)
			v = v * 10 + (*c->p++ - '0');
		if (c->p == digits || (*digits == '0' && c->p - digits > 1) ||
		    v > EVENT_DURATION_MAX_MS)
			return false;
		ev->duration_ms = v;
		ev->has_duration = 1;
	}
	return true;
}

/* Whether the text event_parse_canonical took, whose event_id and ts are
 * at id and ts (n bytes), is what event_to_json writes for ev. Every other
 * field is written back as it was read (strings without escapes, in the
 * same order; no empty city or device, which event_to_json would leave
 * out), except coordinates whose text was not kept. tests/fuzz/fuzz_event.c
 * checks this on every input. */
static bool written_as_read(const struct play_event *ev, const char *id, const char *ts, size_t n)
{
	char t[40];

	return !memcmp(id, ev->event_id, 36) && !time_format_rfc3339_ms(ev->ts_us, t, sizeof(t)) &&
	       strlen(t) == n && !memcmp(ts, t, n) &&
	       (!ev->has_lat_lon || (ev->lat_text[0] && ev->lon_text[0]));
}

bool event_parse_canonical(const char *buf, size_t len, const struct event_rules *rules,
                           struct play_event *ev, bool *as_written)
{
	struct scan c = {buf, buf + len};
	const char *s, *id, *ts;
	size_t n, ts_len;
	int64_t us;
	const char *reason;

	memset(ev, 0, sizeof(*ev));
	if (!SCAN_LIT(&c, "{\"event_id\":\"") || !scan_str(&c, 36, &id, &n) || n != 36 ||
	    !uuid_take(id, ev->event_id))
		return false;
	if (!SCAN_LIT(&c, ",\"user_id\":\"") || !scan_copy(&c, 1, EVENT_ID_MAX_CHARS, ev->user_id))
		return false;
	if (!SCAN_LIT(&c, ",\"song_id\":\"") || !scan_copy(&c, 1, EVENT_ID_MAX_CHARS, ev->song_id))
		return false;
	if (!SCAN_LIT(&c, ",\"region\":\"") || !scan_str(&c, sizeof(ev->region) - 1, &s, &n) ||
	    !region_take(rules, s, n, ev))
		return false;
	if (!SCAN_LIT(&c, ",\"ts\":\"") || !scan_str(&c, 64, &ts, &ts_len) ||
	    time_parse_rfc3339(ts, ts_len, &us, &reason) || ts_out_of_bounds(rules, us))
		return false;
	ev->ts_us = us - ((us % 1000) + 1000) % 1000;
	if (!scan_optional(&c, ev) || !SCAN_LIT(&c, "}") || c.p != c.end) {
		memset(ev, 0, sizeof(*ev));
		return false;
	}
	if (as_written)
		*as_written = written_as_read(ev, id, ts, ts_len);
	return true;
}

int event_parse(const char *buf, size_t len, const struct event_rules *rules, struct play_event *ev,
                struct event_error *why)
{
	json_error_t jerr;
	json_t *obj;
	int rc;

	if (event_parse_canonical(buf, len, rules, ev, NULL))
		return 0;
	obj = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!obj) {
		why->field = NULL;
		why->rule = "must be valid JSON";
		snprintf(why->detail, sizeof(why->detail), "%s at line %d column %d", jerr.text,
		         jerr.line, jerr.column);
		return TS_EINVAL;
	}
	rc = event_from_json(obj, rules, ev, why);
	json_decref(obj);
	return rc;
}

/* prefix, then v in decimal; no printf on the per-play path. */
static int add_uint(struct dbuf *out, const char *prefix, uint64_t v)
{
	char digits[24];
	size_t n = sizeof(digits);
	int rc;

	do {
		digits[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	rc = dbuf_addstr(out, prefix);
	return rc ? rc : dbuf_add(out, digits + n, sizeof(digits) - n);
}

int event_to_json(const struct play_event *ev, struct dbuf *out)
{
	char ts[40];
	int rc;

	time_format_rfc3339_ms(ev->ts_us, ts, sizeof(ts));
	/* No printf on this path: it runs once per ingested play. */
	rc = dbuf_addstr(out, "{\"event_id\":\"");
	rc = rc ? rc : dbuf_addstr(out, ev->event_id);
	rc = rc ? rc : dbuf_addstr(out, "\",\"user_id\":");
	rc = rc ? rc : dbuf_add_json_str(out, ev->user_id);
	rc = rc ? rc : dbuf_addstr(out, ",\"song_id\":");
	rc = rc ? rc : dbuf_add_json_str(out, ev->song_id);
	rc = rc ? rc : dbuf_addstr(out, ",\"region\":\"");
	rc = rc ? rc : dbuf_addstr(out, ev->region);
	rc = rc ? rc : dbuf_addstr(out, "\",\"ts\":\"");
	rc = rc ? rc : dbuf_addstr(out, ts);
	rc = rc ? rc : dbuf_addc(out, '"');
	if (!rc && ev->country[0]) {
		rc = dbuf_addstr(out, ",\"country\":\"");
		rc = rc ? rc : dbuf_addstr(out, ev->country);
		rc = rc ? rc : dbuf_addc(out, '"');
	}
	if (!rc && ev->city[0]) {
		rc = dbuf_addstr(out, ",\"city\":");
		rc = rc ? rc : dbuf_add_json_str(out, ev->city);
	}
	if (!rc && ev->has_lat_lon && ev->lat_text[0] && ev->lon_text[0]) {
		rc = dbuf_addstr(out, ",\"lat\":");
		rc = rc ? rc : dbuf_addstr(out, ev->lat_text);
		rc = rc ? rc : dbuf_addstr(out, ",\"lon\":");
		rc = rc ? rc : dbuf_addstr(out, ev->lon_text);
	} else if (!rc && ev->has_lat_lon) {
		rc = dbuf_addf(out, ",\"lat\":%.15g,\"lon\":%.15g", ev->lat, ev->lon);
	}
	if (!rc && ev->device[0]) {
		rc = dbuf_addstr(out, ",\"device\":");
		rc = rc ? rc : dbuf_add_json_str(out, ev->device);
	}
	if (!rc && ev->has_duration)
		rc = add_uint(out, ",\"duration_ms\":", (uint64_t)ev->duration_ms);
	return rc ? rc : dbuf_addc(out, '}');
}

int event_error_to_json(const struct event_error *why, struct dbuf *out)
{
	int rc = dbuf_addstr(out, "{\"error\":\"invalid play\",\"field\":");

	if (!rc)
		rc = why->field ? dbuf_add_json_str(out, why->field) : dbuf_addstr(out, "null");
	rc = rc ? rc : dbuf_addstr(out, ",\"rule\":");
	rc = rc ? rc : dbuf_add_json_str(out, why->rule ? why->rule : "");
	if (!rc && why->detail[0]) {
		rc = dbuf_addstr(out, ",\"detail\":");
		rc = rc ? rc : dbuf_add_json_str(out, why->detail);
	}
	return rc ? rc : dbuf_addc(out, '}');
}
