/*
 * db_array_add / db_array_end: the text[] literals that carry lists of
 * names as one statement parameter (PostgreSQL's array input syntax).
 */
#include "db/db.h"
#include "test.h"

TEST(db_array_quotes_every_item)
{
	struct dbuf b;

	dbuf_init(&b, 1024);
	CHECK(!db_array_add(&b, "raw/region=EU/date=2026-11-27/hour=13"));
	CHECK(!db_array_add(&b, "a,b {c}"));
	CHECK(!db_array_add(&b, ""));
	CHECK(!db_array_end(&b));
	CHECK(
	    !strcmp(dbuf_str(&b), "{\"raw/region=EU/date=2026-11-27/hour=13\",\"a,b {c}\",\"\"}"));
	dbuf_release(&b);
}

TEST(db_array_escapes_quotes_and_backslashes)
{
	struct dbuf b;

	dbuf_init(&b, 1024);
	CHECK(!db_array_add(&b, "say \"hi\" \\ bye"));
	CHECK(!db_array_end(&b));
	CHECK(!strcmp(dbuf_str(&b), "{\"say \\\"hi\\\" \\\\ bye\"}"));
	dbuf_release(&b);
}

TEST(db_array_empty_and_bounded)
{
	struct dbuf b;

	dbuf_init(&b, 8);
	CHECK(!db_array_end(&b));
	CHECK(!strcmp(dbuf_str(&b), "{}"));
	dbuf_reset(&b);
	CHECK(db_array_add(&b, "longer than eight") == TS_ETOOBIG);
	dbuf_release(&b);
}
