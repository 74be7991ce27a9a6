/*
 * Unit tests of the read API's pure parts: the query-string parser, the
 * time values, the file server's path rules and MIME types, and the
 * OpenAPI document against the route table.
 */
#include "tests/unit/test.h"

#include <jansson.h>

#include "api/api_cache.h"
#include "api/api_internal.h"
#include "api/api_openapi.h"
#include "api/api_query.h"
#include "api/api_read.h"
#include "api/api_static.h"
#include "base/timeutil.h"

static int parse(const char *qs, struct api_query *q)
{
	struct ts_err err;

	return api_query_parse(qs, strlen(qs), q, &err);
}

TEST(api_query_decodes_pairs_in_order)
{
	struct api_query q;

	REQUIRE(parse("region=EU&song=a%20b&song=c+d&flag&empty=&x=%E2%82%AC", &q) == 0);
	CHECK_INT(q.n, 6);
	CHECK_STR(q.p[0].key, "region");
	CHECK_STR(q.p[0].value, "EU");
	CHECK_STR(q.p[1].value, "a b");
	CHECK_STR(q.p[2].value, "c d");
	CHECK_STR(q.p[3].key, "flag");
	CHECK_STR(q.p[3].value, "");
	CHECK_STR(q.p[4].value, "");
	CHECK_STR(q.p[5].value, "\xe2\x82\xac");
	CHECK_INT(api_query_count(&q, "song"), 2);
	CHECK_STR(api_query_get(&q, "song"), "a b");
	CHECK(api_query_get(&q, "nope") == NULL);
	REQUIRE(parse("", &q) == 0);
	CHECK_INT(q.n, 0);
	REQUIRE(parse("&&a=1&&", &q) == 0);
	CHECK_INT(q.n, 1);
	REQUIRE(parse("a=%3d%26", &q) == 0);
	CHECK_STR(q.p[0].value, "=&");
	REQUIRE(parse("a=b=c", &q) == 0);
	CHECK_STR(q.p[0].value, "b=c");
}

TEST(api_query_refuses_what_breaks_the_rules)
{
	static const char *const bad[] = {
	    "=1",    "a=%",      "a=%4",   "a=%zz",    "a=%00",       "a=%0a",
	    "a=%7f", "a=%c2%80", "a=%ff",  "a=%c0%af", "a=%ed%a0%80", "a=%f4%90%80%80",
	    "%00=1", "a=\x01",   "a=\xc3",
	};
	struct api_query q;
	char big[API_QUERY_MAX_LEN + 8], val[400];

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		if (parse(bad[i], &q) == 0)
			test_fail(__FILE__, __LINE__, "accepted %s", bad[i]);
		CHECK_INT(q.n, 0);
	}
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK(parse(big, &q) == TS_ETOOBIG);
	snprintf(val, sizeof(val), "k=%0300d", 1);
	CHECK(parse(val, &q) == TS_ETOOBIG);
	snprintf(val, sizeof(val), "%040d=1", 1);
	CHECK(parse(val, &q) == TS_ETOOBIG);
	CHECK(parse("a&b&c&d&e&f&g&h&i&j&k&l&m&n&o&p&q", &q) == TS_ETOOBIG);
	CHECK(parse("a&b&c&d&e&f&g&h&i&j&k&l&m&n&o&p", &q) == 0);
	/* a value of exactly the maximum, all percent-encoded, fits */
	{
		char qs[8 + 3 * API_QUERY_MAX_VALUE] = "k=";
		for (int i = 0; i < API_QUERY_MAX_VALUE; i++)
			memcpy(qs + 2 + 3 * i, "%41", 4);
		REQUIRE(parse(qs, &q) == 0); /* 770 bytes raw: within 2048 */
		CHECK_INT(q.n, 1);
		CHECK_INT(q.p[0].value_len, API_QUERY_MAX_VALUE);
	}
}

TEST(api_read_parse_time_forms)
{
	int64_t us;
	const char *why;
	int64_t h13 = (time_days_from_civil(2026, 11, 25) * 24 + 13) * 3600 * TIME_US_PER_SEC;

	REQUIRE(api_read_parse_time("2026-11-25T13", &us, &why) == 0);
	CHECK_INT(us, h13);
	REQUIRE(api_read_parse_time("2026-11-25", &us, &why) == 0);
	CHECK_INT(us, h13 - 13 * 3600 * TIME_US_PER_SEC);
	REQUIRE(api_read_parse_time("2026-11-25T14:30:00+01:00", &us, &why) == 0);
	CHECK_INT(us, h13 + 1800 * TIME_US_PER_SEC);
	REQUIRE(api_read_parse_time("2024-02-29", &us, &why) == 0);
	static const char *const bad[] = {
	    "2026-02-29", "2026-11-25T24", "2026-11-31",         "2026-00-01",  "1999-12-31",
	    "2100-01-01", "20261125",      "2026-11-25T13:00",   "-2026-11-25", "2026-11-25T1x",
	    "",           "now",           "2026-11-25T13:00:00"};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		if (api_read_parse_time(bad[i], &us, &why) == 0)
			test_fail(__FILE__, __LINE__, "accepted %s", bad[i]);
}

TEST(api_static_path_rules)
{
	CHECK_INT(api_static_check_path("/"), 0);
	CHECK_INT(api_static_check_path("/assets/index-1.js"), 0);
	CHECK_INT(api_static_check_path("/a.b/c..d/e"), 0);
	CHECK_INT(api_static_check_path("/.."), 400);
	CHECK_INT(api_static_check_path("/../etc/passwd"), 400);
	CHECK_INT(api_static_check_path("/a/../../b"), 400);
	CHECK_INT(api_static_check_path("/a/./b"), 400);
	CHECK_INT(api_static_check_path("/a\\..\\b"), 400);
	CHECK_INT(api_static_check_path("//etc/passwd"), 400);
	CHECK_INT(api_static_check_path("/a\x01"), 400);
	CHECK_INT(api_static_check_path("relative"), 400);
	CHECK_INT(api_static_check_path("/.env"), 404);
	CHECK_INT(api_static_check_path("/a/.git/config"), 404);
	CHECK_STR(api_static_mime("/assets/x.JS"), "text/javascript; charset=utf-8");
	CHECK_STR(api_static_mime("/index.html"), "text/html; charset=utf-8");
	CHECK_STR(api_static_mime("/a.woff2"), "font/woff2");
	CHECK_STR(api_static_mime("/a.b/noext"), "application/octet-stream");
	CHECK_STR(api_static_mime("/x.exe"), "application/octet-stream");
}

TEST(api_openapi_documents_every_route)
{
	struct dbuf doc;
	json_error_t e;
	json_t *j, *paths;
	struct ts_err err;

	dbuf_init(&doc, 1u << 20);
	REQUIRE(api_openapi_build(&doc, &err) == 0);
	j = json_loads(dbuf_str(&doc), 0, &e);
	REQUIRE(j != NULL);
	CHECK_STR(json_string_value(json_object_get(j, "openapi")), "3.1.0");
	paths = json_object_get(j, "paths");
	CHECK_INT(json_object_size(paths), api_route_count());
	for (size_t i = 0; i < api_route_count(); i++) {
		const char *path, *method;
		char lower[8];
		json_t *op;

		api_route_get(i, &path, &method);
		snprintf(lower, sizeof(lower), "%s", method);
		for (char *c = lower; *c; c++)
			*c = (char)(*c - 'A' + 'a');
		op = json_object_get(json_object_get(paths, path), lower);
		if (!op || json_object_get(op, "x-undocumented"))
			test_fail(__FILE__, __LINE__, "%s %s is not documented", method, path);
	}
	json_decref(j);
	dbuf_release(&doc);
}

TEST(text_fnv1a_tells_bodies_apart)
{
	CHECK(text_fnv1a("a", 1, TEXT_FNV_SEED) != text_fnv1a("b", 1, TEXT_FNV_SEED));
	CHECK(text_fnv1a("ab", 2, TEXT_FNV_SEED) ==
	      text_fnv1a("b", 1, text_fnv1a("a", 1, TEXT_FNV_SEED)));
}

TEST(api_cache_hits_expires_and_bounds)
{
	struct api_cache *c = api_cache_new();
	struct dbuf out;
	static char big[API_CACHE_MAX_BODY + 1];
	int flags = 0;

	REQUIRE(c != NULL);
	dbuf_init(&out, 1u << 20);
	CHECK(!api_cache_get(c, "k", &out, &flags));
	api_cache_put(c, "k", "body", 4, 1, 10 * TIME_US_PER_SEC);
	CHECK(api_cache_get(c, "k", &out, &flags));
	CHECK_STR(dbuf_str(&out), "body");
	CHECK_INT(flags, 1);
	CHECK(!api_cache_get(c, "other", &out, &flags));
	api_cache_put(c, "gone", "x", 1, 0, -1);
	CHECK(!api_cache_get(c, "gone", &out, &flags));
	api_cache_put(c, "big", big, sizeof(big), 0, 10 * TIME_US_PER_SEC);
	CHECK(!api_cache_get(c, "big", &out, &flags));
	CHECK(api_cache_get(NULL, "k", &out, &flags) == 0);
	dbuf_release(&out);
	api_cache_free(c);
}
