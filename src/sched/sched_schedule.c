/*
 * Schedule parsing and next-fire computation; see sched_schedule.h.
 *
 * Cron times are found in local civil time (minutes of local days, which the
 * fields match) and then mapped to UTC instants with the zone's offsets.
 * The offsets come from the system tz database through localtime_r with TZ
 * set to the zone; TZ is process-wide, so each computation holds tz_lock and
 * puts the previous TZ back (or UTC). The project's own code never reads
 * local time (it uses time_to_civil, which is UTC), so it is not disturbed.
 */
#include "base/common.h"
#include "base/timeutil.h"
#include "sched/sched_schedule.h"

#include <ctype.h>
#include <pthread.h>
#include <sys/stat.h>
#include <time.h>

#define DAY_S      86400LL
#define HORIZON_S  (8LL * 366 * DAY_S) /* covers the leap-day gap across 2100 */
#define MAX_TOKENS 8

/* 2026-01-01T00:00:00Z: the reference point of the "can it ever fire" check. */
#define PARSE_REFERENCE_US (1767225600LL * TIME_US_PER_SEC)

struct token {
	const char *p;
	size_t len;
};

struct field_spec {
	const char *name;
	int min, max;
	const char *names; /* three-letter names of min.. concatenated, or NULL */
};

static const struct field_spec fields[5] = {
    {"minute", 0, 59, NULL},
    {"hour", 0, 23, NULL},
    {"day of month", 1, 31, NULL},
    {"month", 1, 12, "JANFEBMARAPRMAYJUNJULAUGSEPOCTNOVDEC"},
    {"day of week", 0, 7, "SUNMONTUEWEDTHUFRISAT"},
};

static pthread_mutex_t tz_lock = PTHREAD_MUTEX_INITIALIZER;

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int tokenize(const char *text, struct token *tok, int *ntok)
{
	const char *p = text;

	*ntok = 0;
	while (*p) {
		size_t len;

		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		len = strcspn(p, " \t");
		if (*ntok == MAX_TOKENS)
			return TS_EINVAL;
		tok[*ntok].p = p;
		tok[(*ntok)++].len = len;
		p += len;
	}
	return 0;
}

static int tok_is(const struct token *t, const char *word)
{
	return t->len == strlen(word) && !strncasecmp(t->p, word, t->len);
}

/* ---- every N{s,m,h,d} ---- */

static int parse_every(const struct token *t, struct sched_schedule *out, struct ts_err *err)
{
	static const struct {
		char unit;
		int64_t seconds;
	} units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', DAY_S}};
	int64_t n = 0, unit_s = 0;
	size_t i = 0;

	while (i < t->len && isdigit((unsigned char)t->p[i]) && i < 9)
		n = n * 10 + (t->p[i++] - '0');
	for (size_t u = 0; i && i + 1 == t->len && u < ARRAY_SIZE(units); u++)
		if (t->p[i] == units[u].unit)
			unit_s = units[u].seconds;
	if (!unit_s || n < 1 || n * unit_s > 366 * DAY_S)
		return ts_err_set(err, TS_EINVAL,
		                  "expected 'every N' with a unit s, m, h or d (1s to 366d), got "
		                  "'%.*s'",
		                  (int)t->len, t->p);
	out->kind = SCHED_EVERY;
	out->every_us = n * unit_s * TIME_US_PER_SEC;
	return 0;
}

/* ---- time zones ---- */

/* A zone is a file of the system tz database starting with "TZif"; the name
 * is checked first so that it cannot leave the database's folder. */
static int check_zone(const struct token *t, char *zone, struct ts_err *err)
{
	char path[SCHED_ZONE_MAX + 32], magic[4];
	FILE *f;
	size_t got;

	if (!t->len || t->len >= SCHED_ZONE_MAX || t->p[0] == '/' || t->p[0] == '.')
		goto bad;
	for (size_t i = 0; i < t->len; i++)
		if (!isalnum((unsigned char)t->p[i]) && !strchr("_+-/", t->p[i]))
			goto bad;
	if (memmem(t->p, t->len, "/.", 2) || memmem(t->p, t->len, "//", 2))
		goto bad;
	memcpy(zone, t->p, t->len);
	zone[t->len] = '\0';
	snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", zone);
	f = fopen(path, "rb");
	got = f ? fread(magic, 1, sizeof(magic), f) : 0;
	if (f)
		fclose(f);
	if (got == sizeof(magic) && !memcmp(magic, "TZif", 4))
		return 0;
bad:
	zone[0] = '\0';
	return ts_err_set(err, TS_EINVAL,
	                  "unknown time zone '%.*s' (expected a name of the tz database, such "
	                  "as Europe/Berlin or UTC)",
	                  (int)(t->len > 80 ? 80 : t->len), t->p);
}

struct zone_guard {
	int active;
	char saved[256];
	int had_saved;
};

static void zone_enter(const char *zone, struct zone_guard *g)
{
	const char *old;

	g->active = zone[0] != '\0';
	if (!g->active)
		return;
	pthread_mutex_lock(&tz_lock);
	old = getenv("TZ");
	g->had_saved = old && strlen(old) < sizeof(g->saved);
	if (g->had_saved)
		snprintf(g->saved, sizeof(g->saved), "%s", old);
	setenv("TZ", zone, 1);
	tzset();
}

static void zone_leave(struct zone_guard *g)
{
	if (!g->active)
		return;
	/* Never unsetenv: removing a variable shifts environ under threads
	 * that may be reading it (libpq's getenv at connect). Once TZ exists,
	 * setenv replaces its value in place. Nothing in the project reads
	 * local time, so a TZ left at UTC changes nothing. */
	setenv("TZ", g->had_saved ? g->saved : "UTC", 1);
	tzset();
	pthread_mutex_unlock(&tz_lock);
}

/* UTC offset in seconds at instant t (seconds), in the zone entered. */
static int64_t zone_offset(const struct sched_schedule *s, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!s->zone[0] || !localtime_r(&tt, &tm))
		return 0;
	return tm.tm_gmtoff;
}

/* The instant of local civil time lg (seconds as if UTC): its first
 * occurrence, or for a time in a gap, the instant the gap ends. */
static int64_t local_to_utc(const struct sched_schedule *s, int64_t lg)
{
	int64_t o1 = zone_offset(s, lg - DAY_S), o2 = zone_offset(s, lg + DAY_S);
	int64_t cand[2] = {lg - o1, lg - o2}, best = INT64_MAX, lo, hi;

	for (int i = 0; i < 2; i++)
		if (cand[i] + zone_offset(s, cand[i]) == lg && cand[i] < best)
			best = cand[i];
	if (best != INT64_MAX)
		return best;
	/* A gap: local(lo) < lg < local(hi); find the first second past it. */
	lo = lg - (o1 > o2 ? o1 : o2);
	hi = lg - (o1 > o2 ? o2 : o1);
	while (hi - lo > 1) {
		int64_t mid = lo + (hi - lo) / 2;

		if (mid + zone_offset(s, mid) > lg)
			hi = mid;
		else
			lo = mid;
	}
	return hi;
}

/* ---- cron fields ---- */

static int field_number(const struct field_spec *f, const char *p, size_t len, int *out)
{
	int n = 0;

	if (f->names && len == 3 && isalpha((unsigned char)p[0])) {
		for (size_t i = 0; f->names[i * 3]; i++)
			if (!strncasecmp(f->names + i * 3, p, 3)) {
				*out = f->min + (int)i;
				return 0;
			}
		return TS_EINVAL;
	}
	if (!len || len > 3)
		return TS_EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)p[i]))
			return TS_EINVAL;
		n = n * 10 + (p[i] - '0');
	}
	if (n < f->min || n > f->max)
		return TS_EINVAL;
	*out = n;
	return 0;
}

/* One list item: "*", "N", "N-M", each optionally "/STEP". */
static int field_item(const struct field_spec *f, const char *p, size_t len, uint64_t *bits)
{
	const char *slash = memchr(p, '/', len);
	size_t base_len = slash ? (size_t)(slash - p) : len;
	const char *dash = memchr(p, '-', base_len);
	int lo = f->min, hi = f->max, step = 1;

	if (slash) {
		struct field_spec sf = {f->name, 1, f->max - f->min + 1, NULL};

		if (field_number(&sf, slash + 1, len - base_len - 1, &step))
			return TS_EINVAL;
	}
	if (base_len == 1 && p[0] == '*') {
		/* the whole range */
	} else if (dash) {
		if (field_number(f, p, (size_t)(dash - p), &lo) ||
		    field_number(f, dash + 1, base_len - (size_t)(dash - p) - 1, &hi) || lo > hi)
			return TS_EINVAL;
	} else {
		if (field_number(f, p, base_len, &lo))
			return TS_EINVAL;
		hi = slash ? f->max : lo;
	}
	for (int v = lo; v <= hi; v += step)
		*bits |= 1ULL << v;
	return 0;
}

static int parse_field(int which, const struct token *t, uint64_t *bits, struct ts_err *err)
{
	const struct field_spec *f = &fields[which];
	const char *p = t->p, *end = t->p + t->len;

	*bits = 0;
	while (p <= end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		size_t len = comma ? (size_t)(comma - p) : (size_t)(end - p);

		if (field_item(f, p, len, bits))
			return ts_err_set(err, TS_EINVAL,
			                  "cron %s field '%.*s': expected *, N, N-M, */S or N-M/S "
			                  "lists of values in %d-%d",
			                  f->name, (int)(t->len > 80 ? 80 : t->len), t->p, f->min,
			                  f->max);
		p += len + 1;
	}
	return 0;
}

static int parse_cron_fields(const struct token *t, struct sched_schedule *out, struct ts_err *err)
{
	uint64_t bits[5];

	for (int i = 0; i < 5; i++)
		if (parse_field(i, &t[i], &bits[i], err))
			return TS_EINVAL;
	out->kind = SCHED_CRON;
	out->minute = bits[0];
	out->hour = (uint32_t)bits[1];
	out->dom = (uint32_t)bits[2];
	out->month = (uint32_t)bits[3];
	out->dow = (uint32_t)((bits[4] | (bits[4] >> 7)) & 0x7f); /* 7 is Sunday too */
	out->dom_any = t[2].p[0] == '*';
	out->dow_any = t[4].p[0] == '*';
	return 0;
}

static int parse_macro(const struct token *t, struct sched_schedule *out, struct ts_err *err)
{
	static const struct {
		const char *name, *fields;
	} macros[] = {
	    {"@hourly", "0 * * * *"},   {"@daily", "0 0 * * *"},   {"@midnight", "0 0 * * *"},
	    {"@weekly", "0 0 * * 0"},   {"@monthly", "0 0 1 * *"}, {"@yearly", "0 0 1 1 *"},
	    {"@annually", "0 0 1 1 *"},
	};
	struct token ft[MAX_TOKENS];
	int n;

	for (size_t i = 0; i < ARRAY_SIZE(macros); i++) {
		if (!tok_is(t, macros[i].name))
			continue;
		tokenize(macros[i].fields, ft, &n);
		return parse_cron_fields(ft, out, err);
	}
	return ts_err_set(err, TS_EINVAL,
	                  "unknown shorthand '%.*s' (expected @hourly, @daily, @weekly, "
	                  "@monthly or @yearly)",
	                  (int)(t->len > 80 ? 80 : t->len), t->p);
}

static int parse_tokens(const struct token *t, int n, struct sched_schedule *out,
                        struct ts_err *err)
{
	if (n == 1 && tok_is(&t[0], "off"))
		return 0;
	if (n == 2 && tok_is(&t[0], "every"))
		return parse_every(&t[1], out, err);
	if ((n == 1 || n == 2) && t[0].p[0] == '@') {
		int rc = parse_macro(&t[0], out, err);

		return rc || n == 1 ? rc : check_zone(&t[1], out->zone, err);
	}
	if ((n == 6 || n == 7) && tok_is(&t[0], "cron")) {
		int rc = parse_cron_fields(t + 1, out, err);

		return rc || n == 6 ? rc : check_zone(&t[6], out->zone, err);
	}
	return ts_err_set(err, TS_EINVAL,
	                  "expected 'every N{s,m,h,d}', 'cron MIN HOUR DOM MON DOW [ZONE]', "
	                  "'@daily [ZONE]' (or @hourly, @weekly, @monthly, @yearly) or 'off'");
}

int sched_schedule_parse(const char *text, struct sched_schedule *out, struct ts_err *err)
{
	struct token t[MAX_TOKENS];
	int64_t next;
	int n, rc;

	memset(out, 0, sizeof(*out));
	if (strnlen(text, SCHED_TEXT_MAX + 1) > SCHED_TEXT_MAX)
		return ts_err_set(err, TS_EINVAL, "schedule longer than %d bytes", SCHED_TEXT_MAX);
	if (tokenize(text, t, &n) || n == 0)
		return ts_err_set(err, TS_EINVAL, "expected a schedule, got '%s'", text);
	rc = parse_tokens(t, n, out, err);
	if (!rc && out->kind == SCHED_CRON &&
	    sched_schedule_next(out, PARSE_REFERENCE_US, &next) == TS_ENOTFOUND)
		rc = ts_err_set(err, TS_EINVAL, "cron schedule '%s' never fires", text);
	if (rc)
		memset(out, 0, sizeof(*out));
	return rc;
}

/* ---- next fire ---- */

static int day_matches(const struct sched_schedule *s, int64_t day)
{
	struct time_civil c;
	int dow = (int)(((day % 7) + 11) % 7); /* 1970-01-01 was a Thursday (4) */
	int dom_ok, dow_ok;

	time_to_civil(day * DAY_S * TIME_US_PER_SEC, &c);
	if (!(s->month >> c.month & 1))
		return 0;
	dom_ok = (int)(s->dom >> c.day & 1);
	dow_ok = (int)(s->dow >> dow & 1);
	if (s->dom_any || s->dow_any)
		return dom_ok && dow_ok;
	return dom_ok || dow_ok; /* both restricted: either one (cron's rule) */
}

/* The first matching local minute at or after from (local seconds as if
 * UTC, minute-aligned), up to limit. */
static int next_local(const struct sched_schedule *s, int64_t from, int64_t limit, int64_t *out)
{
	int64_t day = floor_div(from, DAY_S);
	int start = (int)((from - day * DAY_S) / 60);

	for (; day * DAY_S <= limit; day++, start = 0) {
		if (!day_matches(s, day))
			continue;
		for (int m = start; m < 24 * 60; m++) {
			if (!(s->hour >> (m / 60) & 1)) {
				m = m / 60 * 60 + 59;
				continue;
			}
			if (s->minute >> (m % 60) & 1) {
				*out = day * DAY_S + m * 60;
				return 0;
			}
		}
	}
	return TS_ENOTFOUND;
}

static int next_cron(const struct sched_schedule *s, int64_t after_us, int64_t *next_us)
{
	int64_t after_s = floor_div(after_us, TIME_US_PER_SEC), local, limit, cand;
	struct zone_guard g;
	int rc;

	zone_enter(s->zone, &g);
	local = floor_div(after_s + zone_offset(s, after_s), 60) * 60;
	limit = local + HORIZON_S;
	while ((rc = next_local(s, local, limit, &cand)) == 0) {
		int64_t u = local_to_utc(s, cand);

		if (u > after_s) { /* u s is after after_us exactly when u > after_s */
			*next_us = u * TIME_US_PER_SEC;
			break;
		}
		local = cand + 60;
	}
	zone_leave(&g);
	return rc;
}

/* Instants beyond year 9999 are not schedules, they are overflow bait. */
#define LATEST_US (253402300799LL * TIME_US_PER_SEC)

int sched_schedule_next(const struct sched_schedule *s, int64_t after_us, int64_t *next_us)
{
	if (s->kind == SCHED_OFF || after_us < 0 ||
	    after_us > LATEST_US - HORIZON_S * TIME_US_PER_SEC)
		return TS_ENOTFOUND;
	if (s->kind == SCHED_EVERY) {
		*next_us = (floor_div(after_us, s->every_us) + 1) * s->every_us;
		return 0;
	}
	return next_cron(s, after_us, next_us);
}

int sched_schedule_count(const struct sched_schedule *s, int64_t from_us, int64_t to_us, int max,
                         int64_t *last_us)
{
	int64_t t = from_us, next;
	int n = 0;

	*last_us = 0;
	while (n < max && !sched_schedule_next(s, t, &next) && next <= to_us) {
		*last_us = next;
		t = next;
		n++;
	}
	return n;
}
