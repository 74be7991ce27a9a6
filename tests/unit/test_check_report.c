/*
 * Unit tests of check/check_report: the JSON shape scripts rely on, and the
 * human table.
 */
#include "tests/unit/test.h"

#include "base/dbuf.h"
#include "base/error.h"
#include "check/check_report.h"

#include <jansson.h>

static void sample(struct check_result res[3])
{
	memset(res, 0, 3 * sizeof(res[0]));
	res[0].name = "postgres";
	res[0].required = 1;
	res[0].latency_us = 2149;
	check_result_target(&res[0], "postgresql://u:<redacted>@h/x");
	check_result_ok(&res[0], "SELECT 1 answered");
	res[1].name = "kafka";
	res[1].required = 1;
	res[1].latency_us = 1500000;
	check_result_target(&res[1], "127.0.0.1:1");
	check_result_fail(&res[1], TS_EUNAVAIL, "connection refused at \"127.0.0.1:1\"");
	res[2].name = "scheduler";
	check_result_not_running(&res[2], "no scheduler has run yet");
}

TEST(check_report_json_shape)
{
	struct check_result res[3];
	struct dbuf out;
	json_error_t jerr;
	json_t *root, *svcs, *s;

	sample(res);
	dbuf_init(&out, 1 << 16);
	REQUIRE(check_report_json(res, 3, &out) == 0);
	root = json_loads(dbuf_str(&out), 0, &jerr);
	REQUIRE(root != NULL);
	CHECK(json_is_false(json_object_get(root, "ok")));
	svcs = json_object_get(root, "services");
	REQUIRE(json_is_array(svcs) && json_array_size(svcs) == 3);
	s = json_array_get(svcs, 0);
	CHECK_INT(json_object_size(s), 6);
	CHECK_STR(json_string_value(json_object_get(s, "name")), "postgres");
	CHECK(json_is_true(json_object_get(s, "required")));
	CHECK_STR(json_string_value(json_object_get(s, "status")), "ok");
	CHECK(json_is_number(json_object_get(s, "latency_ms")));
	CHECK(json_number_value(json_object_get(s, "latency_ms")) == 2.1);
	CHECK_STR(json_string_value(json_object_get(s, "target")), "postgresql://u:<redacted>@h/x");
	s = json_array_get(svcs, 1);
	CHECK_STR(json_string_value(json_object_get(s, "status")), "failed");
	CHECK_STR(json_string_value(json_object_get(s, "reason")),
	          "connection refused at \"127.0.0.1:1\"");
	s = json_array_get(svcs, 2);
	CHECK_STR(json_string_value(json_object_get(s, "status")), "not running");
	CHECK(json_is_false(json_object_get(s, "required")));
	json_decref(root);
	dbuf_release(&out);
}

TEST(check_report_json_ok_when_required_pass)
{
	struct check_result res[3];
	struct dbuf out;
	json_t *root;

	sample(res);
	res[1].required = 0;
	dbuf_init(&out, 1 << 16);
	REQUIRE(check_report_json(res, 3, &out) == 0);
	root = json_loads(dbuf_str(&out), 0, NULL);
	REQUIRE(root != NULL);
	CHECK(json_is_true(json_object_get(root, "ok")));
	json_decref(root);
	dbuf_release(&out);
}

TEST(check_report_table_rows)
{
	struct check_result res[3];
	struct dbuf out;
	const char *t;

	sample(res);
	dbuf_init(&out, 1 << 16);
	REQUIRE(check_report_table(res, 3, &out) == 0);
	t = dbuf_str(&out);
	CHECK(!strncmp(t, "SERVICE ", 8));
	CHECK(strstr(t, "\npostgres   yes       ok           2.1 ms ") != NULL);
	CHECK(strstr(t, "1500.0 ms") != NULL);
	CHECK(strstr(t, "not running") != NULL);
	CHECK(strstr(t, "FAILED: required service(s) not ok: kafka\n") != NULL);
	dbuf_release(&out);
}

TEST(check_report_respects_buffer_cap)
{
	struct check_result res[3];
	struct dbuf out;

	sample(res);
	dbuf_init(&out, 64);
	CHECK_INT(check_report_table(res, 3, &out), TS_ETOOBIG);
	CHECK_INT(check_report_json(res, 3, &out), TS_ETOOBIG);
	dbuf_release(&out);
}
