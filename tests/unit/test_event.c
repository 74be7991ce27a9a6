/*
 * The event contract, table-driven: every rule accepted and rejected, JSON
 * edge cases, and the canonical form.
 */
#include "tests/unit/test.h"
#include "base/timeutil.h"
#include "base/error.h"
#include "event/event.h"

#include <jansson.h>
#include <math.h>

#define NOW_US 1795000000000000LL /* 2026-11-18T11:06:40Z */

static const struct event_rules rules = {"NA SA EU AF AS OC", NOW_US, 7LL * 86400 * 1000000,
                                         300LL * 1000000};

#define BASE                                                                                       \
	"\"event_id\":\"0B7E2F4C-1d2e-4f3a-8b9c-0d1e2f3a4b5c\",\"user_id\":\"u1\","                \
	"\"song_id\":\"s1\",\"region\":\"EU\",\"ts\":\"2026-11-18T09:00:00Z\""

struct event_case {
	const char *json;
	const char *field; /* NULL: accepted; "-": rejected without a field */
};

static const struct event_case cases[] = {
    {"{" BASE "}", NULL},
    {"{" BASE ",\"country\":\"DE\",\"city\":\"K\\u00f6ln\",\"lat\":50.9,\"lon\":6.9,"
     "\"device\":\"ios\",\"duration_ms\":0}",
     NULL},
    {"{" BASE ",\"duration_ms\":3600000,\"lat\":-90,\"lon\":180}", NULL},
    {"{" BASE ",\"city\":\"\"}", NULL},
    {"{\"user_id\":\"u\"}", "event_id"},
    {"{" BASE ",\"extra\":true}", "-"},
    {"{\"event_id\":\"0b7e2f4c1d2e4f3a8b9c0d1e2f3a4b5c\"}", "event_id"},
    {"{\"event_id\":\"0b7e2f4c-1d2e-4f3a-8b9c-0d1e2f3a4b5g\"}", "event_id"},
    {"{\"event_id\":\"0b7e2f4c-1d2e-4f3a-8b9c-0d1e2f3a4b5c\",\"user_id\":\"\"}", "user_id"},
    {"{\"event_id\":\"0b7e2f4c-1d2e-4f3a-8b9c-0d1e2f3a4b5c\",\"user_id\":\"a\\tb\"}", "user_id"},
    {"{\"event_id\":\"0b7e2f4c-1d2e-4f3a-8b9c-0d1e2f3a4b5c\",\"user_id\":\"u\","
     "\"song_id\":[]}",
     "song_id"},
    {"{" BASE ",\"region\":\"eu\"}", "-"}, /* duplicate key */
    {"{" BASE ",\"country\":\"ZZ\"}", "country"},
    {"{" BASE ",\"country\":\"D\"}", "country"},
    {"{" BASE ",\"lat\":1}", "lon"},
    {"{" BASE ",\"lat\":90.0001,\"lon\":0}", "lat"},
    {"{" BASE ",\"lat\":0,\"lon\":-180.5}", "lon"},
    {"{" BASE ",\"device\":\"123456789012345678901234567890123\"}", "device"},
    {"{" BASE ",\"duration_ms\":-1}", "duration_ms"},
    {"{" BASE ",\"duration_ms\":\"5\"}", "duration_ms"},
    {"{" BASE ",\"duration_ms\":99999999999999999999999}", "-"}, /* beyond int64 */
    {"{" BASE ",\"duration_ms\":1e3}", "duration_ms"},
    {"[{" BASE "}]", "-"},
    {"{" BASE "", "-"},
    {"", "-"},
    {"{" BASE "} {}", "-"},
};

/* A region must be a whole name of the configured list, whichever of
 * spaces and commas separate them: checked on the canonical scanner alone,
 * then through event_parse with a leading space, which the scanner leaves
 * to jansson. */
TEST(event_region_names)
{
	static const struct {
		const char *region;
		bool ok;
	} names[] = {
	    {"NA", true},  {"SA", true},    {"EU", true},   {"OC", true},
	    {"N", false},  {"NAS", false},  {"", false},    {"A", false},
	    {"na", false}, {"EUOC", false}, {"SA,", false}, {"NA SA", false},
	};
	struct event_rules list = rules;
	char buf[512];

	list.regions = " NA, SA,EU  ,, OC ";
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		struct play_event ev;
		struct event_error why = {0};
		bool fast;
		int rc;

		snprintf(
		    buf, sizeof(buf),
		    " {\"event_id\":\"0b7e2f4c-1d2e-4f3a-8b9c-0d1e2f3a4b5c\",\"user_id\":\"u\","
		    "\"song_id\":\"s1\",\"region\":\"%s\",\"ts\":\"2026-11-18T09:00:00Z\"}",
		    names[i].region);
		fast = event_parse_canonical(buf + 1, strlen(buf + 1), &list, &ev, NULL);
		if (fast != names[i].ok || (fast && strcmp(ev.region, names[i].region)))
			test_fail(__FILE__, __LINE__, "scanner: region '%s' %s", names[i].region,
			          fast ? "taken" : "refused");
		REQUIRE(!event_parse_canonical(buf, strlen(buf), &list, &ev, NULL));
		rc = event_parse(buf, strlen(buf), &list, &ev, &why);
		if (names[i].ok && (rc || strcmp(ev.region, names[i].region)))
			test_fail(__FILE__, __LINE__, "jansson: region '%s' refused: %s",
			          names[i].region, why.rule);
		if (!names[i].ok && (!rc || !why.field || strcmp(why.field, "region")))
			test_fail(__FILE__, __LINE__,
			          "jansson: region '%s' not refused for its region",
			          names[i].region);
	}
}

TEST(event_table)
{
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct play_event ev;
		struct event_error why = {0};
		int rc = event_parse(cases[i].json, strlen(cases[i].json), &rules, &ev, &why);

		if (!cases[i].field) {
			if (rc)
				test_fail(__FILE__, __LINE__, "case %zu rejected: %s %s", i,
				          why.field ? why.field : "-", why.rule);
			continue;
		}
		if (!rc) {
			test_fail(__FILE__, __LINE__, "case %zu accepted: %s", i, cases[i].json);
			continue;
		}
		CHECK(why.rule != NULL);
		if (strcmp(cases[i].field, "-"))
			CHECK_STR(why.field, cases[i].field);
		else if (why.field)
			test_fail(__FILE__, __LINE__, "case %zu: field %s", i, why.field);
	}
}

static int parse_ts(const char *ts, struct event_error *why)
{
	char buf[256];
	struct play_event ev;

	snprintf(buf, sizeof(buf),
	         "{\"event_id\":\"0b7e2f4c-1d2e-4f3a-8b9c-0d1e2f3a4b5c\",\"user_id\":\"u\","
	         "\"song_id\":\"s\",\"region\":\"NA\",\"ts\":\"%s\"}",
	         ts);
	return event_parse(buf, strlen(buf), &rules, &ev, why);
}

TEST(event_ts_window)
{
	struct event_error why;

	CHECK_INT(parse_ts("2026-11-18T11:11:40Z", &why), 0); /* now + 300 s */
	CHECK_INT(parse_ts("2026-11-18T11:11:41Z", &why), TS_EINVAL);
	CHECK_INT(parse_ts("2026-11-11T11:06:40Z", &why), 0); /* now - 7 days */
	CHECK_INT(parse_ts("2026-11-11T11:06:39Z", &why), TS_EINVAL);
	CHECK_INT(parse_ts("2026-11-18T12:06:40+01:00", &why), 0);
	CHECK_INT(parse_ts("2026-11-18T11:06:40", &why), TS_EINVAL);
	CHECK_STR(why.rule, "must be an RFC 3339 date-time with offset");
}

TEST(event_canonical_json)
{
	const char *in =
	    "{\"duration_ms\":5,\"lon\":13.405,\"lat\":52.52,\"city\":\"a\\\"b\\u00fc\","
	    "\"ts\":\"2026-11-18T10:00:00.123456+01:00\",\"region\":\"EU\","
	    "\"song_id\":\"s\",\"user_id\":\"u\",\"country\":\"DE\","
	    "\"event_id\":\"0B7E2F4C-1D2E-4F3A-8B9C-0D1E2F3A4B5C\"}";
	const char *want = "{\"event_id\":\"0b7e2f4c-1d2e-4f3a-8b9c-0d1e2f3a4b5c\","
	                   "\"user_id\":\"u\",\"song_id\":\"s\",\"region\":\"EU\","
	                   "\"ts\":\"2026-11-18T09:00:00.123Z\",\"country\":\"DE\","
	                   "\"city\":\"a\\\"b\xc3\xbc\",\"lat\":52.52,\"lon\":13.405,"
	                   "\"duration_ms\":5}";
	struct play_event ev;
	struct event_error why;
	struct dbuf out;

	REQUIRE(event_parse(in, strlen(in), &rules, &ev, &why) == 0);
	dbuf_init(&out, 4096);
	REQUIRE(event_to_json(&ev, &out) == 0);
	CHECK_STR(dbuf_str(&out), want);
	dbuf_release(&out);
}

TEST(event_utf8_length_counts_characters)
{
	char buf[1024], id[64 * 3 + 1];
	struct play_event ev;
	struct event_error why;

	for (int i = 0; i < 64; i++)
		memcpy(id + i * 3, "\xe4\xb8\xad", 3); /* 64 x U+4E2D */
	id[64 * 3] = '\0';
	snprintf(buf, sizeof(buf),
	         "{\"event_id\":\"0b7e2f4c-1d2e-4f3a-8b9c-0d1e2f3a4b5c\",\"user_id\":\"%s\","
	         "\"song_id\":\"s\",\"region\":\"NA\",\"ts\":\"2026-11-18T09:00:00Z\"}",
	         id);
	CHECK_INT(event_parse(buf, strlen(buf), &rules, &ev, &why), 0);
	CHECK_STR(ev.user_id, id);
}

TEST(event_invalid_utf8_and_nul_rejected)
{
	const char a[] = "{\"user_id\":\"\xff\"}";
	const char b[] = "{\"user_id\":\"a\\u0000b\"}";
	struct play_event ev;
	struct event_error why;

	CHECK_INT(event_parse(a, sizeof(a) - 1, &rules, &ev, &why), TS_EINVAL);
	CHECK_STR(why.rule, "must be valid JSON");
	CHECK_INT(event_parse(b, sizeof(b) - 1, &rules, &ev, &why), TS_EINVAL);
}

TEST(event_deep_nesting_rejected_without_crash)
{
	size_t n = 100000;
	char *buf = malloc(2 * n);
	struct play_event ev;
	struct event_error why;

	REQUIRE(buf);
	memset(buf, '[', n);
	memset(buf + n, ']', n);
	CHECK_INT(event_parse(buf, 2 * n, &rules, &ev, &why), TS_EINVAL);
	free(buf);
}

TEST(event_countries)
{
	CHECK(event_is_country("DE"));
	CHECK(event_is_country("US"));
	CHECK(event_is_country("ZW"));
	CHECK(event_is_country("AD"));
	CHECK(!event_is_country("UK"));
	CHECK(!event_is_country("de"));
	CHECK(!event_is_country("DEU"));
	CHECK(!event_is_country(""));
}

/* Minus zero (written, or a number too small for a double) is stored as 0:
 * its canonical form "-0" would read back as the integer 0, and the
 * canonical JSON would not be stable (found by the event fuzz target). The
 * fast path stores the same. */
TEST(event_negative_zero_coordinates)
{
	static const char *const in[] = {
	    "{" BASE ",\"lat\":-0.0,\"lon\":-77.2e-40198}",
	    "{\"event_id\":\"0b7e2f4c-1d2e-4f3a-8b9c-0d1e2f3a4b5c\",\"user_id\":\"u1\","
	    "\"song_id\":\"s1\",\"region\":\"EU\",\"ts\":\"2026-11-18T09:00:00.123Z\","
	    "\"lat\":-0.0,\"lon\":-0.0}",
	};
	struct play_event ev, again;
	struct event_error why;
	struct dbuf a, b;

	dbuf_init(&a, 4096);
	dbuf_init(&b, 4096);
	for (size_t i = 0; i < ARRAY_SIZE(in); i++) {
		REQUIRE(event_parse(in[i], strlen(in[i]), &rules, &ev, &why) == 0);
		CHECK(!signbit(ev.lat) && !signbit(ev.lon));
		dbuf_reset(&a);
		dbuf_reset(&b);
		REQUIRE(event_to_json(&ev, &a) == 0);
		CHECK(strstr(dbuf_str(&a), "\"lat\":0,\"lon\":0") != NULL);
		REQUIRE(event_parse(a.buf, a.len, &rules, &again, &why) == 0);
		REQUIRE(event_to_json(&again, &b) == 0);
		CHECK_STR(dbuf_str(&b), dbuf_str(&a));
	}
	dbuf_release(&a);
	dbuf_release(&b);
}

/* The jansson path alone, which the canonical fast path must agree with. */
static int parse_slow(const char *json, struct play_event *ev, struct event_error *why)
{
	json_t *obj = json_loadb(json, strlen(json), JSON_REJECT_DUPLICATES, NULL);
	int rc;

	if (!obj)
		return TS_EINVAL;
	rc = event_from_json(obj, &rules, ev, why);
	json_decref(obj);
	return rc;
}

/* Whether event_to_json writes a and b alike. */
static bool same_json(const struct play_event *a, const struct play_event *b)
{
	struct dbuf x, y;
	bool same;

	dbuf_init(&x, 1 << 16);
	dbuf_init(&y, 1 << 16);
	same = !event_to_json(a, &x) && !event_to_json(b, &y) && x.len == y.len &&
	       !memcmp(x.buf, y.buf, x.len);
	dbuf_release(&x);
	dbuf_release(&y);
	return same;
}

/* Whether the fast path took json; fails the test when it took something
 * jansson would not, or filled the event differently. */
static bool fast_agrees(const char *json)
{
	struct play_event fast, slow;
	struct event_error why = {0};

	if (!event_parse_canonical(json, strlen(json), &rules, &fast, NULL))
		return false;
	if (parse_slow(json, &slow, &why)) {
		test_fail(__FILE__, __LINE__, "fast path took what jansson rejects: %s", json);
		return true;
	}
	/* jansson keeps no coordinate text: event_to_json writes its doubles
	 * with printf; the fast path's text, copied, must be the same bytes. */
	if (!same_json(&fast, &slow))
		test_fail(__FILE__, __LINE__, "fast path and jansson write different JSON for %s",
		          json);
	memcpy(slow.lat_text, fast.lat_text, sizeof(slow.lat_text));
	memcpy(slow.lon_text, fast.lon_text, sizeof(slow.lon_text));
	if (memcmp(&fast, &slow, sizeof(fast)))
		test_fail(__FILE__, __LINE__, "fast path and jansson differ on %s", json);
	return true;
}

#define CANON_HEAD                                                                                 \
	"{\"event_id\":\"0b7e2f4c-1d2e-4f3a-8b9c-0d1e2f3a4b5c\",\"user_id\":\"u1\","               \
	"\"song_id\":\"s1\",\"region\":\"EU\",\"ts\":\"2026-11-18T09:00:00.123Z\""

/* What event_to_json writes takes the fast path, with the same result. */
TEST(event_canonical_fast_path_taken)
{
	static const char *const taken[] = {
	    CANON_HEAD "}",
	    (CANON_HEAD ",\"country\":\"DE\",\"city\":\"Berlin\",\"lat\":52.52,\"lon\":-13.405,"
	                "\"device\":\"ios\",\"duration_ms\":0}"),
	    CANON_HEAD ",\"lat\":-90.0,\"lon\":180.0,\"duration_ms\":3600000}",
	    CANON_HEAD ",\"city\":\"K\xc3\xb6ln \xe2\x82\xac \xf0\x9f\x8e\xb5 \xc2\x85\"}",
	    ("{\"event_id\":\"0B7E2F4C-1D2E-4F3A-8B9C-0D1E2F3A4B5C\",\"user_id\":\"u\","
	     "\"song_id\":\"s\",\"region\":\"OC\",\"ts\":\"2026-11-18T12:00:00+01:00\"}"),
	};

	for (size_t i = 0; i < ARRAY_SIZE(taken); i++)
		if (!fast_agrees(taken[i]))
			test_fail(__FILE__, __LINE__, "fast path not taken: %s", taken[i]);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		fast_agrees(cases[i].json);
}

/* The api sends a play as it came when event_to_json would write the same
 * bytes (as_written); anything else, it writes anew. */
TEST(event_canonical_as_written)
{
	static const struct {
		const char *json;
		bool as_written;
	} forms[] = {
	    {CANON_HEAD "}", true},
	    {CANON_HEAD
	     ",\"country\":\"DE\",\"city\":\"K\xc3\xb6ln\",\"lat\":52.52,\"lon\":-13.405,"
	     "\"device\":\"ios\",\"duration_ms\":180000}",
	     true},
	    /* Upper-case hex, which event_to_json writes in lower case. */
	    {"{\"event_id\":\"0B7E2F4C-1D2E-4F3A-8B9C-0D1E2F3A4B5C\",\"user_id\":\"u1\","
	     "\"song_id\":\"s1\",\"region\":\"EU\",\"ts\":\"2026-11-18T09:00:00.123Z\"}",
	     false},
	    /* Times not in the form event_to_json writes. */
	    {"{\"event_id\":\"0b7e2f4c-1d2e-4f3a-8b9c-0d1e2f3a4b5c\",\"user_id\":\"u1\","
	     "\"song_id\":\"s1\",\"region\":\"EU\",\"ts\":\"2026-11-18T10:00:00.123+01:00\"}",
	     false},
	    {"{\"event_id\":\"0b7e2f4c-1d2e-4f3a-8b9c-0d1e2f3a4b5c\",\"user_id\":\"u1\","
	     "\"song_id\":\"s1\",\"region\":\"EU\",\"ts\":\"2026-11-18T09:00:00.123456Z\"}",
	     false},
	    {"{\"event_id\":\"0b7e2f4c-1d2e-4f3a-8b9c-0d1e2f3a4b5c\",\"user_id\":\"u1\","
	     "\"song_id\":\"s1\",\"region\":\"EU\",\"ts\":\"2026-11-18T09:00:00Z\"}",
	     false},
	    /* Coordinates that %.15g writes otherwise. */
	    {CANON_HEAD ",\"lat\":12.340,\"lon\":1.5}", false},
	    {CANON_HEAD ",\"lat\":1.5,\"lon\":0.00001}", false},
	};

	for (size_t i = 0; i < ARRAY_SIZE(forms); i++) {
		struct play_event ev;
		bool as_written = !forms[i].as_written;
		struct dbuf out;

		if (!event_parse_canonical(forms[i].json, strlen(forms[i].json), &rules, &ev,
		                           &as_written)) {
			test_fail(__FILE__, __LINE__, "fast path not taken: %s", forms[i].json);
			continue;
		}
		if (as_written != forms[i].as_written)
			test_fail(__FILE__, __LINE__, "as_written %d for %s", as_written,
			          forms[i].json);
		dbuf_init(&out, 1 << 16);
		CHECK(!event_to_json(&ev, &out));
		CHECK((out.len == strlen(forms[i].json) &&
		       !memcmp(out.buf, forms[i].json, out.len)) == forms[i].as_written);
		dbuf_release(&out);
	}
}

/* An empty city or device is valid, but event_to_json leaves it out: the
 * fast path leaves such a play to jansson. */
TEST(event_canonical_leaves_empty_strings_to_jansson)
{
	static const char *const json = CANON_HEAD ",\"city\":\"\",\"device\":\"\"}";
	struct play_event ev;
	struct event_error why = {0};

	CHECK(!event_parse_canonical(json, strlen(json), &rules, &ev, NULL));
	CHECK(!event_parse(json, strlen(json), &rules, &ev, &why));
	CHECK_STR(ev.city, "");
}

/* Coordinates at the edges of what "%.15g" writes as it was written
 * (event_to_json copies those): 15 and 16 significant digits, three and
 * four zeros after the point, trailing zeros, zeros. Each takes the fast
 * path and is written as jansson's double through printf would be. */
TEST(event_coordinate_text_kept_only_when_printf_agrees)
{
	static const char *const kept[][2] = {
	    {"0.0001", "1"},
	    {"-0.000123456789012345", "1"},
	    {"12.3456789012345", "1"},
	    {"-0.5", "1"},
	    {"0.00001", ""},
	    {"0.0001234567890123456", ""},
	    {"12.34567890123456", ""},
	    {"12.340", ""},
	    {"0.0", ""},
	    {"-0.0", ""},
	    {"90.0", ""},
	};
	char json[256];

	for (size_t i = 0; i < ARRAY_SIZE(kept); i++) {
		struct play_event ev;

		snprintf(json, sizeof(json), CANON_HEAD ",\"lat\":%s,\"lon\":%s}", kept[i][0],
		         kept[i][0]);
		if (!fast_agrees(json)) {
			test_fail(__FILE__, __LINE__, "fast path not taken: %s", json);
			continue;
		}
		event_parse_canonical(json, strlen(json), &rules, &ev, NULL);
		CHECK_STR(ev.lat_text, kept[i][1][0] ? kept[i][0] : "");
		CHECK_STR(ev.lon_text, kept[i][1][0] ? kept[i][0] : "");
	}
}

/* Coordinates of up to 15 digits are read without strtod (m / 10^k): the
 * same doubles as jansson's strtod, for decimals of every length and
 * position of the point, including the hardest to round (many digits,
 * halfway-looking tails), and for 16 digits and more, which go to strtod. */
TEST(event_canonical_decimals_equal_strtod)
{
	uint64_t x = 0x9e3779b97f4a7c15u;
	char json[512], num[2][48];
	int taken = 0;

	for (int t = 0; t < 20000; t++) {
		for (int j = 0; j < 2; j++) {
			int len, frac;

			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			/* an integer part below the limit, 1 to 18 decimals */
			len = snprintf(num[j], sizeof(num[j]), "%s%d.", (x & 1) ? "-" : "",
			               (int)((x >> 1) % (j ? 180 : 90)));
			frac = 1 + (int)((x >> 9) % 18);
			for (int d = 0; d < frac; d++) {
				x ^= x << 13, x ^= x >> 7, x ^= x << 17;
				num[j][len++] = (char)('0' + (x >> 20) % 10);
			}
			num[j][len] = '\0';
		}
		snprintf(json, sizeof(json), CANON_HEAD ",\"lat\":%s,\"lon\":%s}", num[0], num[1]);
		taken += fast_agrees(json);
	}
	CHECK_INT(taken, 20000);
}

/* Anything else goes to jansson, and event_parse still decides it exactly
 * as jansson alone does. */
TEST(event_canonical_gives_up_on_the_rest)
{
	static const char *const left[] = {
	    CANON_HEAD " }",
	    CANON_HEAD "}\n",
	    "{ \"event_id\":\"0b7e2f4c-1d2e-4f3a-8b9c-0d1e2f3a4b5c\",\"user_id\":\"u1\","
	    "\"song_id\":\"s1\",\"region\":\"EU\",\"ts\":\"2026-11-18T09:00:00Z\"}",
	    CANON_HEAD ",\"city\":\"K\\u00f6ln\"}",
	    CANON_HEAD ",\"city\":\"\xc0\x80\"}",         /* overlong NUL */
	    CANON_HEAD ",\"city\":\"\xed\xa0\x80\"}",     /* surrogate */
	    CANON_HEAD ",\"city\":\"\xf4\x90\x80\x80\"}", /* past U+10FFFF */
	    CANON_HEAD ",\"city\":\"\xe0\x9f\xbf\"}",     /* overlong */
	    CANON_HEAD ",\"city\":\"K\xc3\"}",            /* cut short */
	    CANON_HEAD ",\"city\":\"\x80\"}",
	    CANON_HEAD ",\"country\":\"\xc3\xa9\"}",
	    CANON_HEAD ",\"city\":\"a\\\"b\"}",
	    CANON_HEAD ",\"city\":\"a\x7f\"}",
	    CANON_HEAD ",\"city\":\"a\tb\"}",
	    CANON_HEAD ",\"device\":\"ios\",\"country\":\"DE\"}",
	    CANON_HEAD ",\"country\":\"DE\",\"country\":\"FR\"}",
	    CANON_HEAD ",\"region\":\"EU\"}",
	    CANON_HEAD ",\"country\":\"ZZ\"}",
	    CANON_HEAD ",\"country\":\"de\"}",
	    CANON_HEAD ",\"lat\":1,\"lon\":2.0}",
	    CANON_HEAD ",\"lat\":1.0,\"lon\":2}",
	    CANON_HEAD ",\"lat\":1.5e1,\"lon\":2.0}",
	    CANON_HEAD ",\"lat\":01.5,\"lon\":2.0}",
	    CANON_HEAD ",\"lat\":-0.,\"lon\":2.0}",
	    CANON_HEAD ",\"lat\":90.5,\"lon\":2.0}",
	    CANON_HEAD ",\"lon\":2.0,\"lat\":1.0}",
	    CANON_HEAD ",\"lat\":1.0}",
	    CANON_HEAD ",\"duration_ms\":01}",
	    CANON_HEAD ",\"duration_ms\":-1}",
	    CANON_HEAD ",\"duration_ms\":3600001}",
	    CANON_HEAD ",\"duration_ms\":123456789}",
	    CANON_HEAD ",\"duration_ms\":1.0}",
	    CANON_HEAD ",\"extra\":1}",
	    ("{\"event_id\":\"0b7e2f4c-1d2e-4f3a-8b9c-0d1e2f3a4b5c\",\"user_id\":\"\","
	     "\"song_id\":\"s1\",\"region\":\"EU\",\"ts\":\"2026-11-18T09:00:00Z\"}"),
	    ("{\"event_id\":\"0b7e2f4c-1d2e-4f3a-8b9c-0d1e2f3a4b5c\",\"user_id\":\"u\","
	     "\"song_id\":\"s1\",\"region\":\"XX\",\"ts\":\"2026-11-18T09:00:00Z\"}"),
	    ("{\"event_id\":\"0b7e2f4c-1d2e-4f3a-8b9c-0d1e2f3a4b5c\",\"user_id\":\"u\","
	     "\"song_id\":\"s1\",\"region\":\"EU\",\"ts\":\"2026-11-18T11:11:41Z\"}"),
	    ("{\"event_id\":\"0b7e2f4c-1d2e-4f3a-8b9c-0d1e2f3a4b5c\",\"user_id\":\"u\","
	     "\"song_id\":\"s1\",\"region\":\"EU\",\"ts\":\"2026-11-18 09:00:00\"}"),
	    ("{\"event_id\":\"0b7e2f4c-1d2e-4f3a-8b9c-0d1e2f3a4b5\",\"user_id\":\"u\","
	     "\"song_id\":\"s1\",\"region\":\"EU\",\"ts\":\"2026-11-18T09:00:00Z\"}"),
	    ("{\"event_id\":\"0b7e2f4c-1d2e-4f3a-8b9c-0d1e2f3a4b5c\",\"user_id\":\"u\","
	     "\"song_id\":\"s1\",\"region\":\"EU\"}"),
	};

	for (size_t i = 0; i < ARRAY_SIZE(left); i++) {
		struct play_event a, b;
		struct event_error wa = {0}, wb = {0};
		int ra, rb;

		if (fast_agrees(left[i]))
			test_fail(__FILE__, __LINE__, "fast path took %s", left[i]);
		ra = event_parse(left[i], strlen(left[i]), &rules, &a, &wa);
		rb = parse_slow(left[i], &b, &wb);
		CHECK_INT(ra, rb);
		if (!ra && !rb)
			CHECK(!memcmp(&a, &b, sizeof(a)));
		if (ra && rb && wb.rule) {
			CHECK_STR(wa.rule, wb.rule);
			CHECK(wa.field == wb.field ||
			      (wa.field && wb.field && !strcmp(wa.field, wb.field)));
		}
	}
}

/* A user_id of exactly 64 characters takes the fast path; 65 goes to
 * jansson, which rejects it. Limits count characters, not bytes. */
TEST(event_canonical_length_limits)
{
	char buf[512], id[66];

	memset(id, 'a', 65);
	id[65] = '\0';
	snprintf(buf, sizeof(buf),
	         "{\"event_id\":\"0b7e2f4c-1d2e-4f3a-8b9c-0d1e2f3a4b5c\",\"user_id\":\"%s\","
	         "\"song_id\":\"s\",\"region\":\"EU\",\"ts\":\"2026-11-18T09:00:00Z\"}",
	         id + 1);
	CHECK(fast_agrees(buf));
	snprintf(buf, sizeof(buf),
	         "{\"event_id\":\"0b7e2f4c-1d2e-4f3a-8b9c-0d1e2f3a4b5c\",\"user_id\":\"%s\","
	         "\"song_id\":\"s\",\"region\":\"EU\",\"ts\":\"2026-11-18T09:00:00Z\"}",
	         id);
	CHECK(!fast_agrees(buf));
	/* Characters, not bytes: 32 two-byte characters are a full device. */
	snprintf(buf, sizeof(buf), CANON_HEAD ",\"device\":\"%s\"}",
	         "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	         "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	         "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	         "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9");
	CHECK(fast_agrees(buf));
	snprintf(buf, sizeof(buf), CANON_HEAD ",\"device\":\"%sx\"}",
	         "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	         "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	         "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	         "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9");
	CHECK(!fast_agrees(buf));
}
