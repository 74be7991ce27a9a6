/*
 * Unit tests of the flows' pure helpers: lake keys, COPY escaping, the hash
 * map, the flow table.
 */
#include "tests/unit/test.h"
#include "base/dbuf.h"
#include "flow/flow.h"
#include "flow/flow_copy.h"
#include "flow/flow_hash.h"
#include "flow/flow_lake.h"
#include "store/store.h"

TEST(flow_lake_keys)
{
	char k[FLOW_KEY_MAX];

	flow_hour_dir("raw", "EU", "2026-11-25", 7, k, sizeof(k));
	CHECK_STR(k, "raw/region=EU/date=2026-11-25/hour=07");
	flow_enriched_key("OC", "2026-01-02", 23, 0xabcULL, k, sizeof(k));
	CHECK_STR(k,
	          "enriched/region=OC/date=2026-01-02/hour=23/enriched-0000000000000abc.parquet");
	CHECK_INT(store_key_check(k, NULL), 0);
	flow_enriched_staged("OC", "2026-01-02", 23, 0xabcULL, k, sizeof(k));
	CHECK_STR(k, "_staging/enrich/OC-2026-01-02-23/enriched-0000000000000abc.parquet");
	CHECK_INT(store_key_check(k, NULL), 0);
	flow_enriched_staging_dir("OC", "2026-01-02", 23, k, sizeof(k));
	CHECK_STR(k, "_staging/enrich/OC-2026-01-02-23/");
	CHECK_INT(store_prefix_check(k, NULL), 0);
}

TEST(flow_range_params)
{
	struct flow_args a = {NULL, 0, 0, NULL};
	char bufs[2][32];
	const char *p[3];

	flow_range_params(&a, bufs, p);
	CHECK(!p[0] && !p[1] && !p[2]);
	a.from_us = 1764000000123456LL;
	a.to_us = 1764003600000000LL;
	a.region = "EU";
	flow_range_params(&a, bufs, p);
	CHECK_STR(p[0], "EU");
	CHECK_STR(p[1], "1764000000.123456");
	CHECK_STR(p[2], "1764003600.000000");
	a.region = "";
	flow_range_params(&a, bufs, p);
	CHECK(p[0] == NULL);
}

TEST(flow_copy_escape)
{
	struct dbuf b;

	dbuf_init(&b, 1024);
	CHECK_INT(flow_copy_escape(&b, "a\tb\nc\\d\re", 9), 0);
	CHECK_STR(dbuf_str(&b), "a\\tb\\nc\\\\d\\re");
	dbuf_reset(&b);
	CHECK_INT(flow_copy_escape(&b, "plain", 5), 0);
	CHECK_STR(dbuf_str(&b), "plain");
	dbuf_release(&b);
}

/* A row's values as COPY's text format gets them, before any is sent: an
 * array of hostile strings quoted and escaped twice (array literal, then
 * COPY), integers at their limits. */
TEST(flow_copy_row_with_arrays)
{
	struct flow_copy c = {0};
	struct ts_err err;
	struct dbuf pre;

	/* An element formatted ahead (flow_copy_format_elem) and added raw is
	 * the same as one added by flow_copy_elem_str. */
	dbuf_init(&pre, 64);
	CHECK_INT(flow_copy_format_elem(&pre, "a\"b\\c", 5), 0);
	dbuf_init(&c.buf, FLOW_COPY_CHUNK * 2);
	CHECK_INT(flow_copy_int(&c, INT64_MIN, &err), 0);
	CHECK_INT(flow_copy_array_begin(&c, &err), 0);
	CHECK_INT(flow_copy_elem_str(&c, "s1", 2, &err), 0);
	CHECK_INT(flow_copy_elem_raw(&c, pre.buf, pre.len, &err), 0);
	CHECK_INT(flow_copy_elem_str(&c, "NULL", 4, &err), 0);
	CHECK_INT(flow_copy_elem_str(&c, "{x,\ty}", 6, &err), 0);
	CHECK_INT(flow_copy_elem_str(&c, "", 0, &err), 0);
	CHECK_INT(flow_copy_array_end(&c, &err), 0);
	CHECK_INT(flow_copy_array_begin(&c, &err), 0);
	CHECK_INT(flow_copy_elem_int(&c, 0, &err), 0);
	CHECK_INT(flow_copy_elem_int(&c, INT64_MAX, &err), 0);
	CHECK_INT(flow_copy_elem_int(&c, -7, &err), 0);
	CHECK_INT(flow_copy_array_end(&c, &err), 0);
	CHECK_INT(flow_copy_array_begin(&c, &err), 0);
	CHECK_INT(flow_copy_array_end(&c, &err), 0);
	CHECK_STR(dbuf_str(&c.buf), "-9223372036854775808\t"
	                            "{\"s1\",\"a\\\\\"b\\\\\\\\c\",\"NULL\",\"{x,\\ty}\",\"\"}\t"
	                            "{0,9223372036854775807,-7}\t{}");
	CHECK_INT((int)c.nelems, 0);
	dbuf_release(&c.buf);
	dbuf_release(&pre);
}

TEST(flow_hash_map)
{
	struct flow_hash h;
	char keys[3000][8];
	int added;

	flow_hash_init(&h, 2500);
	for (int i = 0; i < 3000; i++)
		snprintf(keys[i], sizeof(keys[i]), "k%d", i);
	for (int i = 0; i < 2500; i++) {
		CHECK_INT(flow_hash_put(&h, keys[i], strlen(keys[i]), (uint32_t)i, &added, NULL),
		          0);
		CHECK_INT(added, 1);
	}
	/* Present keys keep their first value; the cap holds. */
	CHECK_INT(flow_hash_put(&h, "k7", 2, 99, &added, NULL), 0);
	CHECK_INT(added, 0);
	CHECK_INT(flow_hash_get(&h, "k7", 2), 7);
	CHECK_INT(flow_hash_get(&h, "k2499", 5), 2499);
	CHECK_INT(flow_hash_get(&h, "k2500", 5), -1);
	CHECK_INT(flow_hash_put(&h, keys[2600], strlen(keys[2600]), 1, &added, NULL), TS_ETOOBIG);
	CHECK_INT(flow_hash_put(&h, "", 0, 5, &added, NULL), TS_ETOOBIG);
	flow_hash_release(&h);
	flow_hash_init(&h, 10);
	CHECK_INT(flow_hash_put(&h, "", 0, 5, &added, NULL), 0);
	CHECK_INT(flow_hash_get(&h, "", 0), 5);
	flow_hash_release(&h);
}

TEST(flow_table_in_dependency_order)
{
	REQUIRE(flow_count >= 2);
	CHECK_STR(flow_table[0].name, "enrich");
	CHECK_STR(flow_table[1].name, "aggregate");
	CHECK(flow_find("aggregate") == &flow_table[1]);
	CHECK(flow_find("nope") == NULL);
	CHECK(flow_find(NULL) == NULL);
	for (size_t i = 0; i < flow_count; i++)
		CHECK(flow_table[i].run && flow_table[i].summary && flow_table[i].default_schedule);
}
