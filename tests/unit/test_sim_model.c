/*
 * Unit tests of the listener model: the same options give the same events,
 * every event obeys the api's contract, and the distributions have the
 * shape docs/simulator.md promises (daily rate, local-time curve, region
 * shares, Zipf popularity, trends, skips, client retries, bounded memory).
 */
#include "tests/unit/test.h"
#include "base/dbuf.h"
#include "base/timeutil.h"
#include "sim/sim_curve.h"
#include "sim/sim_model.h"

#include <math.h>

/* 2026-11-25T00:00:00Z */
#define DAY0 (1795564800LL * TIME_US_PER_SEC)
#define HOUR (3600LL * TIME_US_PER_SEC)

struct fixture {
	struct sim_catalog *cat;
	struct sim_model *m;
};

static int setup(struct fixture *fx, uint64_t seed, double rate, uint32_t songs,
                 const char *regions)
{
	struct sim_model_opts o;
	struct ts_err err;

	memset(fx, 0, sizeof(*fx));
	sim_model_opts_default(&o);
	o.seed = seed;
	o.rate = rate;
	o.listeners = 5000;
	o.start_us = DAY0;
	if (regions)
		o.regions = regions;
	if (sim_catalog_new(1, songs, &fx->cat, &err))
		return -1;
	if (sim_model_new(&o, fx->cat, &fx->m, &err)) {
		fprintf(stderr, "  %s\n", err.msg);
		return -1;
	}
	return 0;
}

static void teardown(struct fixture *fx)
{
	sim_model_free(fx->m);
	sim_catalog_free(fx->cat);
}

/* The JSON of the first n events, concatenated. */
static char *first_events(uint64_t seed, int n)
{
	struct fixture fx;
	struct sim_event ev;
	struct dbuf b;

	if (setup(&fx, seed, 50, 2000, NULL))
		return NULL;
	dbuf_init(&b, 64u << 20);
	for (int i = 0; i < n; i++) {
		if (sim_model_next(fx.m, &ev, NULL) || sim_event_json(&ev, &b) ||
		    dbuf_addc(&b, '\n'))
			break;
	}
	teardown(&fx);
	return dbuf_detach(&b, NULL);
}

TEST(sim_model_deterministic_for_a_seed)
{
	char *a = first_events(42, 5000), *b = first_events(42, 5000), *c = first_events(43, 5000);

	REQUIRE(a && b && c);
	CHECK(strlen(a) > 5000 * 150);
	CHECK(!strcmp(a, b));
	CHECK(strcmp(a, c) != 0);
	free(a);
	free(b);
	free(c);
}

static int upper2(const char *s)
{
	return strlen(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z';
}

TEST(sim_model_events_obey_the_contract)
{
	struct fixture fx;
	struct sim_event ev;
	int64_t last = 0;

	REQUIRE(setup(&fx, 1, 50, 2000, NULL) == 0);
	for (int i = 0; i < 20000; i++) {
		int64_t peek = sim_model_peek_us(fx.m);

		REQUIRE(sim_model_next(fx.m, &ev, NULL) == 0);
		CHECK(ev.emit_us == peek);
		CHECK(ev.emit_us >= last); /* sent in order */
		CHECK(ev.ts_us >= DAY0 && ev.ts_us <= ev.emit_us);
		CHECK(strlen(ev.user_id) >= 1 && strlen(ev.user_id) <= 64);
		CHECK(strlen(ev.song_id) >= 1 && strlen(ev.song_id) <= 64);
		CHECK(strstr(" NA SA EU AF AS OC ", ev.region) && strlen(ev.region) == 2);
		REQUIRE(ev.city);
		CHECK(upper2(ev.city->country));
		CHECK(!strcmp(ev.city->region, ev.region));
		CHECK(strlen(ev.city->name) <= 128);
		CHECK(ev.lat >= -90 && ev.lat <= 90 && ev.lon >= -180 && ev.lon <= 180);
		CHECK(fabs(ev.lat - ev.city->lat) < 1.5 && fabs(ev.lon - ev.city->lon) < 1.5);
		CHECK(strlen(ev.device) >= 1 && strlen(ev.device) <= 32);
		CHECK(ev.duration_ms >= 0 && ev.duration_ms <= 3600000);
		CHECK(ev.duration_ms <= sim_catalog_duration_ms(fx.cat, ev.song));
		last = ev.emit_us;
	}
	teardown(&fx);
}

/* Statistics of one simulated day at a low rate (about 175,000 plays). */
struct day {
	long total, firsts, dups, skips, skipped_long;
	long region[SIM_MODEL_MAX_REGIONS];
	long local_hour[24];
	long rank_early[64], rank_late[64]; /* ranks 0..63, first / last 3 hours */
	long rising_early, rising_late, early, late;
	const uint32_t *rising; /* the rising ranks (the same in every region) */
	size_t nrising;
};

static int is_rising(const struct day *d, uint32_t rank)
{
	for (size_t i = 0; i < d->nrising; i++)
		if (d->rising[i] == rank)
			return 1;
	return 0;
}

static void tally(struct day *d, const struct sim_event *ev)
{
	int64_t local = ev->ts_us / TIME_US_PER_SEC + ev->city->utc_offset_min * 60LL;
	int early = ev->ts_us < DAY0 + 3 * HOUR, late = ev->ts_us >= DAY0 + 21 * HOUR;

	d->total++;
	if (ev->duplicate) {
		d->dups++;
		return;
	}
	d->firsts++;
	d->skips += ev->skipped;
	d->skipped_long += ev->skipped && ev->duration_ms > 30000;
	d->region[ev->region_index]++;
	d->local_hour[(local % 86400 + 86400) % 86400 / 3600]++;
	d->early += early;
	d->late += late;
	if (ev->rank < 64) {
		d->rank_early[ev->rank] += early;
		d->rank_late[ev->rank] += late;
	}
	d->rising_early += early && is_rising(d, ev->rank);
	d->rising_late += late && is_rising(d, ev->rank);
}

static struct day *simulate_day(double rate)
{
	struct day *d = calloc(1, sizeof(*d));
	struct fixture fx;
	struct sim_event ev;

	if (!d || setup(&fx, 99, rate, 5000, NULL)) {
		free(d);
		return NULL;
	}
	d->nrising = sim_pop_rising(sim_model_pop(fx.m), 0, &d->rising);
	while (sim_model_peek_us(fx.m) < DAY0 + 24 * HOUR) {
		if (sim_model_next(fx.m, &ev, NULL))
			break;
		tally(d, &ev);
	}
	teardown(&fx);
	d->rising = NULL; /* owned by the model, gone now */
	d->nrising = 0;
	return d;
}

static struct day *shared_day(void)
{
	static struct day *d;

	if (!d)
		d = simulate_day(2.0);
	return d;
}

TEST(sim_model_daily_volume_matches_rate)
{
	struct day *d = shared_day();
	double expect = 2.0 * 86400;

	REQUIRE(d);
	/* Poisson sessions of geometric length: a few percent of noise. */
	CHECK(fabs(d->firsts / expect - 1) < 0.05);
	/* Client retries: about 1% of plays are sent twice. */
	CHECK(fabs((double)d->dups / d->firsts - 0.01) < 0.003);
}

TEST(sim_model_follows_local_daily_curve)
{
	struct day *d = shared_day();
	long night, evening;

	REQUIRE(d);
	night = d->local_hour[3] + d->local_hour[4];
	evening = d->local_hour[19] + d->local_hour[20];
	/* The curve is about 0.2 at 3-5h and about 1.55 at 19-21h. */
	CHECK(evening > 4 * night);
	CHECK(evening < 12 * night);
	CHECK(d->local_hour[8] > d->local_hour[5]); /* the morning bump */
	CHECK(d->local_hour[13] > d->local_hour[2]);
}

TEST(sim_model_region_shares)
{
	struct day *d = shared_day();
	/* NA SA EU AF AS OC: 22 12 25 8 28 5 percent. */
	const double share[6] = {0.22, 0.12, 0.25, 0.08, 0.28, 0.05};

	REQUIRE(d);
	for (int i = 0; i < 6; i++)
		CHECK(fabs((double)d->region[i] / d->firsts - share[i]) < 0.03);
}

TEST(sim_model_popularity_is_skewed_and_trends)
{
	struct day *d = shared_day();
	double r0, r2, r9, fade_early, fade_late;

	REQUIRE(d);
	r0 = d->rank_early[0];
	r2 = d->rank_early[2];
	r9 = d->rank_early[9];
	/* Zipf, s = 1: rank 0 three times rank 2, ten times rank 9. */
	CHECK(r0 > 2 * r2 && r0 < 4.5 * r2);
	CHECK(r0 > 5 * r9 && r0 < 20 * r9);
	/* Rising songs gain over the day, the fading top ranks (1, 4, 7) lose. */
	CHECK((double)d->rising_late / d->late > 4.0 * d->rising_early / d->early);
	fade_early = (double)(d->rank_early[1] + d->rank_early[4] + d->rank_early[7]) / d->early;
	fade_late = (double)(d->rank_late[1] + d->rank_late[4] + d->rank_late[7]) / d->late;
	CHECK(fade_late < 0.5 * fade_early);
}

TEST(sim_model_skips)
{
	struct day *d = shared_day();
	double share;

	REQUIRE(d);
	share = (double)d->skips / d->firsts;
	CHECK(share > 0.12 && share < 0.35);
	CHECK_INT(d->skipped_long, 0);
}

static int by_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

TEST(sim_model_retries_repeat_the_same_play)
{
	struct fixture fx;
	struct sim_event ev;
	enum { N = 30000 };
	char **json = calloc(N, sizeof(*json));
	int dups = 0, same = 0;

	REQUIRE(json);
	REQUIRE(setup(&fx, 5, 200, 2000, NULL) == 0);
	for (int i = 0; i < N; i++) {
		struct dbuf b;

		REQUIRE(sim_model_next(fx.m, &ev, NULL) == 0);
		dbuf_init(&b, 4096);
		REQUIRE(sim_event_json(&ev, &b) == 0);
		json[i] = dbuf_detach(&b, NULL);
		dups += ev.duplicate;
	}
	/* Identical lines sort next to each other: each duplicate is a byte-for-
	 * byte copy of an earlier play (same event_id, same ts). */
	qsort(json, N, sizeof(*json), by_str);
	for (int i = 1; i < N; i++) {
		same += !strcmp(json[i], json[i - 1]);
		CHECK(strcmp(json[i], json[i - 1]) == 0 ||
		      strncmp(json[i], json[i - 1], 50) != 0); /* ids unique otherwise */
	}
	CHECK(dups > 0);
	CHECK_INT(same, dups);
	for (int i = 0; i < N; i++)
		free(json[i]);
	free(json);
	teardown(&fx);
}

TEST(sim_model_memory_is_bounded)
{
	struct fixture fx;
	struct sim_event ev;
	size_t at_100k = 0, peak = 0;

	REQUIRE(setup(&fx, 3, 500, 2000, NULL) == 0);
	for (int i = 0; i < 600000; i++) {
		REQUIRE(sim_model_next(fx.m, &ev, NULL) == 0);
		if (sim_model_pending(fx.m) > peak)
			peak = sim_model_pending(fx.m);
		if (i == 100000)
			at_100k = sim_model_pending(fx.m);
	}
	/* Open sessions: about rate x 190 s (25-minute sessions of 8 plays)
	 * times the daily curve; they level off instead of growing with the
	 * number of events drawn. */
	CHECK(at_100k > 0);
	CHECK(peak < 500 * 190 * 3);
	CHECK(sim_model_pending(fx.m) < 3 * at_100k);
	teardown(&fx);
}

TEST(sim_model_regions_without_geography)
{
	struct fixture fx;
	struct sim_event ev;
	int xx = 0, eu = 0;

	REQUIRE(setup(&fx, 8, 50, 500, "EU,XYZ  EU") == 0);
	CHECK_INT(sim_model_region_count(fx.m), 2);
	for (int i = 0; i < 2000; i++) {
		REQUIRE(sim_model_next(fx.m, &ev, NULL) == 0);
		if (!strcmp(ev.region, "XYZ")) {
			CHECK(ev.city == NULL);
			xx++;
		} else {
			CHECK_STR(ev.region, "EU");
			CHECK(ev.city != NULL);
			eu++;
		}
	}
	CHECK(xx > 0 && eu > xx);
	teardown(&fx);
}

TEST(sim_model_starts_warm)
{
	struct fixture fx;
	struct sim_event ev;
	long first = 0;
	double expect;

	/* One region without cities: local time is UTC, the curve is known. */
	REQUIRE(setup(&fx, 12, 100, 2000, "XYZ") == 0);
	while (sim_model_peek_us(fx.m) < DAY0 + 5 * 60 * TIME_US_PER_SEC) {
		REQUIRE(sim_model_next(fx.m, &ev, NULL) == 0);
		first += !ev.duplicate;
	}
	/* Sessions already open at the start: the first five minutes carry the
	 * plays the rate and the curve call for (a cold start would carry
	 * about a fifth of them). */
	expect = 100 * 300 * sim_curve_at(150);
	CHECK(first > 0.88 * expect);
	CHECK(first < 1.12 * expect);
	teardown(&fx);
}

TEST(sim_model_rejects_bad_options)
{
	struct sim_catalog *cat = NULL;
	struct sim_model_opts o;
	struct sim_model *m = NULL;
	struct ts_err err;

	REQUIRE(sim_catalog_new(1, 100, &cat, NULL) == 0);
	sim_model_opts_default(&o);
	o.regions = "eu";
	CHECK(sim_model_new(&o, cat, &m, &err) == TS_EINVAL && !m);
	o.regions = " , ";
	CHECK(sim_model_new(&o, cat, &m, &err) == TS_EINVAL);
	o.regions = "EU";
	o.rate = 0;
	CHECK(sim_model_new(&o, cat, &m, &err) == TS_EINVAL);
	o.rate = 10;
	o.retry_share = 1.0;
	CHECK(sim_model_new(&o, cat, &m, &err) == TS_EINVAL);
	o.retry_share = 0;
	CHECK(sim_model_new(&o, cat, &m, &err) == 0 && m);
	sim_model_free(m);
	sim_catalog_free(cat);
}

TEST(sim_regions_rank_songs_differently)
{
	struct fixture fx;
	int same_top = 0, overlap = 0;

	REQUIRE(setup(&fx, 1, 10, 5000, NULL) == 0);
	for (uint32_t k = 0; k < 10; k++) {
		uint32_t eu = sim_pop_song(sim_model_pop(fx.m), 2, k);

		same_top += eu == sim_pop_song(sim_model_pop(fx.m), 4, k);
		for (uint32_t j = 0; j < 100; j++)
			overlap += eu == sim_pop_song(sim_model_pop(fx.m), 4, j);
	}
	/* Correlated (EU's top ten is mostly in Asia's top hundred), not equal. */
	CHECK(same_top < 10);
	CHECK(overlap >= 3);
	teardown(&fx);
}

TEST(sim_regions_favour_a_genre)
{
	struct fixture fx;
	int latin_all = 0, latin_sa = 0, latin_eu = 0;

	REQUIRE(setup(&fx, 1, 10, 5000, NULL) == 0);
	REQUIRE(!strcmp(sim_model_region_code(fx.m, 1), "SA"));
	for (uint32_t i = 0; i < 5000; i++)
		latin_all += !strcmp(sim_catalog_genre(fx.cat, i), "latin");
	for (uint32_t k = 0; k < 100; k++) {
		latin_sa += !strcmp(
		    sim_catalog_genre(fx.cat, sim_pop_song(sim_model_pop(fx.m), 1, k)), "latin");
		latin_eu += !strcmp(
		    sim_catalog_genre(fx.cat, sim_pop_song(sim_model_pop(fx.m), 2, k)), "latin");
	}
	/* About one genre in twelve; in South America's top 100, far more. */
	CHECK(latin_all > 200);
	CHECK(latin_sa > 2 * latin_all / 50);
	CHECK(latin_sa > 2 * latin_eu);
	teardown(&fx);
}

TEST(sim_model_devices_by_region)
{
	struct fixture fx;
	struct sim_event ev;
	long android[SIM_MODEL_MAX_REGIONS] = {0}, all[SIM_MODEL_MAX_REGIONS] = {0};

	REQUIRE(setup(&fx, 31, 100, 500, NULL) == 0);
	for (int i = 0; i < 100000; i++) {
		REQUIRE(sim_model_next(fx.m, &ev, NULL) == 0);
		REQUIRE(strstr(" android ios web desktop speaker ", ev.device));
		android[ev.region_index] += !strcmp(ev.device, "android");
		all[ev.region_index]++;
	}
	/* AF (index 3) is mostly android, NA (index 0) mostly not. */
	CHECK((double)android[3] / all[3] > 0.65);
	CHECK((double)android[0] / all[0] < 0.5);
	teardown(&fx);
}

TEST(sim_curve_shape)
{
	double sum = 0, max = sim_curve_max();

	for (int s = 0; s < 86400; s += 60) {
		double c = sim_curve_at(s);

		CHECK(c > 0 && c <= max + 1e-12);
		sum += c;
	}
	CHECK(fabs(sum / 1440 - 1.0) < 0.01);
	CHECK(sim_curve_at(4 * 3600) < 0.3);
	CHECK(sim_curve_at(20 * 3600) > 1.4);
	CHECK(fabs(sim_curve_at(-3600) - sim_curve_at(23 * 3600)) < 1e-12);
	/* Tokyo (UTC+9) is at 20:00 when UTC is at 11:00. */
	CHECK(fabs(sim_curve_at_utc(DAY0 + 11 * HOUR, 540) - sim_curve_at(20 * 3600)) < 1e-12);
}

TEST(sim_event_json_form)
{
	static const struct sim_city quote = {"EU", "FR", "L'\"Haÿ\"", 48.78, 2.34, 60, 1};
	struct sim_event ev;
	struct dbuf b;

	memset(&ev, 0, sizeof(ev));
	snprintf(ev.event_id, sizeof(ev.event_id), "%s", "0f8fad5b-d9cb-469f-a165-70867728950e");
	snprintf(ev.user_id, sizeof(ev.user_id), "%s", "u0000002a");
	snprintf(ev.song_id, sizeof(ev.song_id), "%s", "s000123");
	ev.region = "EU";
	ev.city = &quote;
	ev.device = "ios";
	ev.lat = 48.78123;
	ev.lon = -2.5;
	ev.ts_us = DAY0 + 13 * HOUR + 123456;
	ev.duration_ms = 61000;
	dbuf_init(&b, 4096);
	REQUIRE(sim_event_json(&ev, &b) == 0);
	CHECK_STR(
	    dbuf_str(&b),
	    "{\"event_id\":\"0f8fad5b-d9cb-469f-a165-70867728950e\",\"user_id\":\"u0000002a\","
	    "\"song_id\":\"s000123\",\"region\":\"EU\",\"ts\":\"2026-11-25T13:00:00.123Z\","
	    "\"country\":\"FR\",\"city\":\"L'\\\"Haÿ\\\"\",\"lat\":48.7812,\"lon\":-2.5,"
	    "\"device\":\"ios\",\"duration_ms\":61000}");
	/* No geography: the optional fields are left out. */
	ev.city = NULL;
	dbuf_reset(&b);
	REQUIRE(sim_event_json(&ev, &b) == 0);
	CHECK(strstr(dbuf_str(&b), "country") == NULL && strstr(dbuf_str(&b), "lat") == NULL);
	CHECK(strstr(dbuf_str(&b), "\"device\":\"ios\"") != NULL);
	dbuf_release(&b);
}

static int by_long_desc(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

static int by_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

TEST(sim_model_some_listeners_are_keener)
{
	enum { N = 200000 };
	struct fixture fx;
	struct sim_event ev;
	uint32_t *ids = malloc(N * sizeof(*ids));
	long *plays = calloc(N, sizeof(*plays)), total = 0, top = 0;
	int n = 0;

	REQUIRE(ids && plays);
	/* One region without cities: 5000 listeners in one place. */
	REQUIRE(setup(&fx, 21, 100, 500, "XYZ") == 0);
	for (int i = 0; i < N; i++) {
		REQUIRE(sim_model_next(fx.m, &ev, NULL) == 0);
		ids[i] = (uint32_t)strtoul(ev.user_id + 1, NULL, 16);
	}
	qsort(ids, N, sizeof(*ids), by_u32);
	for (int i = 0; i < N; i++) {
		if (i == 0 || ids[i] != ids[i - 1])
			n++;
		plays[n - 1]++;
	}
	qsort(plays, (size_t)n, sizeof(*plays), by_long_desc);
	for (int i = 0; i < n; i++) {
		total += plays[i];
		top += i < 500 ? plays[i] : 0;
	}
	/* The keenest tenth of 5000 listeners play about a third. */
	CHECK(n > 4500 && n <= 5000);
	CHECK((double)top / total > 0.25 && (double)top / total < 0.45);
	free(ids);
	free(plays);
	teardown(&fx);
}
