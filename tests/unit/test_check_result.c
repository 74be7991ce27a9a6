/*
 * Unit tests of check/check_result: one-line reasons and secret scrubbing.
 */
#include "tests/unit/test.h"

#include "base/error.h"
#include "check/check_result.h"

TEST(check_result_oneline_collapses_blanks)
{
	char s[] = "  connection refused\n\tIs the server   running?\r\n";

	check_result_oneline(s);
	CHECK_STR(s, "connection refused Is the server running?");
}

TEST(check_result_oneline_keeps_utf8_replaces_garbage)
{
	char s[] = "caf\xc3\xa9 \xff ok \xe2\x80";

	check_result_oneline(s);
	CHECK_STR(s, "caf\xc3\xa9 ? ok ??");
}

TEST(check_result_scrub_replaces_every_occurrence)
{
	char s[128] = "pw=hunter2 again hunter2.";

	check_result_scrub(s, sizeof(s), "hunter2");
	CHECK_STR(s, "pw=<redacted> again <redacted>.");
}

TEST(check_result_scrub_truncates_rather_than_leaks)
{
	char s[16], t[8] = "xx s3cr";

	snprintf(s, sizeof(s), "%s", "ab s3cr3tpw tail"); /* "ab s3cr3tpw tai" */
	check_result_scrub(s, sizeof(s), "s3cr3tpw");
	CHECK(!strstr(s, "s3cr3tpw"));
	CHECK(!strncmp(s, "ab <redacted>", 13));
	/* No room for the mask: the text is cut where the secret began. */
	check_result_scrub(t, sizeof(t), "s3cr");
	CHECK_STR(t, "xx ");
}

TEST(check_result_scrub_null_or_empty_secret_is_noop)
{
	char s[32] = "nothing to hide";

	check_result_scrub(s, sizeof(s), NULL);
	check_result_scrub(s, sizeof(s), "");
	CHECK_STR(s, "nothing to hide");
}

TEST(check_result_setters_set_status_and_one_line)
{
	struct check_result r;

	memset(&r, 0, sizeof(r));
	CHECK_INT(check_result_fail(&r, TS_EUNAVAIL, "a\nb %d", 1), TS_EUNAVAIL);
	CHECK_INT(r.status, CHECK_FAILED);
	CHECK_STR(r.reason, "a b 1");
	CHECK_INT(check_result_not_running(&r, "none"), TS_ENOTFOUND);
	CHECK_STR(check_result_status_name(r.status), "not running");
	CHECK_INT(check_result_ok(&r, "fine"), 0);
	CHECK_STR(check_result_status_name(r.status), "ok");
	CHECK_STR(check_result_status_name(CHECK_FAILED), "failed");
}
