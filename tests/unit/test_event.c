/*
 * The event contract, table-driven: every rule accepted and rejected, JSON
 * edge cases, and the canonical form.
 */
#include "tests/unit/test.h"
#include "base/timeutil.h"
#include "base/error.h"
#include "event/event.h"

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
