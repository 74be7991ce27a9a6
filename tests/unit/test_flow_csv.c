/*
 * Unit tests of the catalog CSV reader (flow_csv.h): RFC 4180 quoting,
 * headers and blank lines, every error naming its line, and chunk
 * boundaries anywhere.
 */
#include "tests/unit/test.h"
#include "base/dbuf.h"
#include "flow/flow_csv.h"
#include "sim/sim_catalog.h"

/* The records read, as "id|title|artist|genre|duration@line\n". */
static int collect(const struct flow_csv_song *s, void *arg, struct ts_err *err)
{
	(void)err;
	return dbuf_addf(arg, "%s|%s|%s|%s|%s%d@%ld\n", s->song_id, s->title, s->artist, s->genre,
	                 s->has_duration ? "" : "-", s->has_duration ? s->duration_ms : 0, s->line);
}

/* Parses in, fed in chunks of step bytes; out gets the records. */
static int parse(const char *in, size_t step, struct dbuf *out, struct ts_err *err)
{
	struct flow_csv p;
	size_t n = strlen(in);
	int rc = 0;

	dbuf_init(out, 1 << 20);
	flow_csv_init(&p, collect, out);
	for (size_t at = 0; !rc && at < n; at += step)
		rc = flow_csv_feed(&p, in + at, n - at < step ? n - at : step, err);
	return rc ? rc : flow_csv_finish(&p, err);
}

static void check_ok(const char *in, const char *want)
{
	struct ts_err err;
	struct dbuf out;

	for (size_t step = 1; step <= strlen(in) + 1; step++) {
		ts_err_clear(&err);
		CHECK_INT(parse(in, step, &out, &err), 0);
		CHECK_STR(dbuf_str(&out), want);
		dbuf_release(&out);
	}
}

static void check_bad(const char *in, const char *want_msg)
{
	struct ts_err err;
	struct dbuf out;

	for (size_t step = 1; step <= strlen(in) + 1; step += 3) {
		ts_err_clear(&err);
		CHECK_INT(parse(in, step, &out, &err), TS_EINVAL);
		if (!strstr(err.msg, want_msg))
			test_fail(__FILE__, __LINE__, "error \"%s\" lacks \"%s\"", err.msg,
			          want_msg);
		dbuf_release(&out);
	}
}

TEST(flow_csv_plain_and_header)
{
	check_ok("song_id,title,artist,genre,duration_ms\ns1,T,A,pop,1000\ns2,U,B,rock,\n",
	         "s1|T|A|pop|1000@2\ns2|U|B|rock|-0@3\n");
	check_ok("id,title,artist,genre\r\ns1,T,A,pop\r\n", "s1|T|A|pop|-0@2\n");
	/* No header, no final line break, blank lines skipped. */
	check_ok("s1,T,A,pop\n\n\ns2,T2,A2,jazz,5", "s1|T|A|pop|-0@1\ns2|T2|A2|jazz|5@4\n");
	check_ok("", "");
}

TEST(flow_csv_quoting)
{
	check_ok("s1,\"Hello, World\",\"The \"\"Band\"\"\",pop\n",
	         "s1|Hello, World|The \"Band\"|pop|-0@1\n");
	/* A quoted line break: the next record's line number counts it. */
	check_ok("s1,\"two\nlines\",A,pop,7\ns2,T,A,pop\n",
	         "s1|two\nlines|A|pop|7@1\ns2|T|A|pop|-0@3\n");
	check_ok("\"s1\",\"T\",\"A\",\"g\",\"12\"\n", "s1|T|A|g|12@1\n");
	check_ok("s1,Café,Ünïcode,k-pop\n", "s1|Café|Ünïcode|k-pop|-0@1\n");
}

TEST(flow_csv_errors_name_the_line)
{
	check_bad("s1,T,A,pop\ns2,T,A\n", "line 2: 3 fields");
	check_bad("s1,T,A,pop,1,extra\n", "line 1: more than 5 fields");
	check_bad("s1,T,A,pop\ns2,\"open,A,pop\n", "line 2: a quoted field is not closed");
	check_bad("s1,T\"x,A,pop\n", "line 1: a quote inside an unquoted field");
	check_bad("s1,\"T\"x,A,pop\n", "line 1: text after a closing quote");
	check_bad("s1,T,A,pop,-5\n", "line 1: duration_ms");
	check_bad("s1,T,A,pop,99999999999\n", "line 1: duration_ms");
	check_bad("s1,T,A,pop\n,T,A,pop\n", "line 2: empty song_id");
	check_bad("s1,,A,pop\n", "line 1: empty title");
	check_bad("s1,T,A,pop\rs2,T,A,pop\n", "line 1: a carriage return");
	check_bad("s1,\xff\xfe,A,pop\n", "line 1: title is not valid UTF-8");
	check_bad("s\x01,T,A,pop\n", "line 1: song_id has a control character");
}

TEST(flow_csv_bounds)
{
	struct dbuf in, out;
	struct ts_err err;

	/* A record longer than the cap is refused, not buffered. */
	dbuf_init(&in, 1 << 20);
	dbuf_addstr(&in, "s1,\"");
	for (int i = 0; i < FLOW_CSV_RECORD_MAX + 10; i++)
		dbuf_addc(&in, 'x');
	dbuf_addstr(&in, "\",A,pop\n");
	ts_err_clear(&err);
	CHECK_INT(parse(in.buf, 4096, &out, &err), TS_EINVAL);
	CHECK(strstr(err.msg, "line 1: record longer") != NULL);
	dbuf_release(&out);
	dbuf_release(&in);
	/* A 65-byte id is too long; 64 is fine. */
	check_bad("s1234567890123456789012345678901234567890123456789012345678901234,T,A,pop\n",
	          "song_id too long");
}

TEST(flow_csv_reads_the_simulator_catalog)
{
	struct sim_catalog *c = NULL;
	struct ts_err err;
	struct dbuf out;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	REQUIRE(f && sim_catalog_new(4, 300, &c, NULL) == 0);
	REQUIRE(sim_catalog_write_csv(c, f, NULL) == 0);
	fclose(f);
	ts_err_clear(&err);
	CHECK_INT(parse(buf, 1000, &out, &err), 0);
	/* 300 records, the header skipped, song 0 first. */
	int lines = 0;
	for (const char *p = dbuf_str(&out); *p; p++)
		lines += *p == '\n';
	CHECK_INT(lines, 300);
	CHECK(!strncmp(dbuf_str(&out), "s000000|", 8));
	dbuf_release(&out);
	sim_catalog_free(c);
	free(buf);
}
