/*
 * See ledger_lake.h.
 */
#include "base/common.h"
#include "base/timeutil.h"
#include "flow/flow_lake.h"
#include "lake/lake_key.h"
#include "ledger/ledger_lake.h"
#include "parquet/parquet_reader.h"
#include "store/store.h"

#define HOUR_US 3600000000LL
/* The bytes read from a lake object's end for its footer: a raw or enriched
 * file's footer is a few KiB per row group. */
#define LEDGER_FOOTER_TAIL (64u << 10)
#define MAX_REGIONS        64

struct scan {
	struct flow_lake lake;
	struct ledger_report *r;
	const struct ledger_opts *o;
	int enriched; /* scanning enriched/ (else raw/) */
	struct dbuf buf;
	struct ts_err *err;
};

static int footer_rows(struct scan *s, const char *key, int64_t *rows)
{
	struct parquet_reader *pr = NULL;
	char path[4096 + STORE_KEY_MAX + 2];
	int rc;

	if (s->lake.root) {
		snprintf(path, sizeof(path), "%s/%s", s->lake.root, key);
		rc = parquet_reader_open_file(path, &pr, s->err);
	} else {
		/* One ranged read of the object's end holds the footer of any
		 * file ingest or enrich writes; a longer footer (or a server
		 * that ignores ranges) costs a read of the whole object. */
		uint64_t size = 0;

		rc = store_get_tail(s->lake.store, key, LEDGER_FOOTER_TAIL, &s->buf, &size, s->err);
		rc = rc ? rc
		        : parquet_reader_open_tail(s->buf.buf, s->buf.len, size, key, &pr, s->err);
		if (rc == TS_ETOOBIG) {
			ts_err_clear(s->err);
			rc = store_get(s->lake.store, key, LEDGER_LAKE_FILE_MAX, &s->buf, s->err);
			rc = rc ? rc
			        : parquet_reader_open_mem(s->buf.buf, s->buf.len, key, &pr, s->err);
		}
	}
	if (rc)
		return ts_err_wrap(s->err, "lake file %s", key);
	*rows = parquet_reader_footer(pr)->num_rows;
	parquet_reader_free(pr);
	return 0;
}

static int on_file(const struct store_entry *e, void *arg)
{
	struct scan *s = arg;
	struct ledger_hour *h;
	char region[16], day[16];
	int hour;
	int64_t hour_us, rows = 0;
	size_t n = strlen(e->key);

	/* (a region longer than the report's rows hold is none we configure) */
	if (n < 8 || strcmp(e->key + n - 8, ".parquet") ||
	    lake_key_parse(e->key, region, day, &hour) || strlen(region) >= sizeof(h->region))
		return 0;
	hour_us = lake_key_hour_us(day, hour);
	if (hour_us < s->o->from_us || hour_us >= s->o->to_us)
		return 0;
	if (footer_rows(s, e->key, &rows)) {
		if (s->err->code != TS_ENOTFOUND)
			return s->err->code;
		/* A compaction replaced it after the listing: the caller looks
		 * again (ledger.c). */
		s->r->lake_vanished++;
		ts_err_clear(s->err);
		return 0;
	}
	h = ledger_hour_get(s->r, region, hour_us);
	if (!h)
		return ts_err_set(s->err, TS_ETOOBIG, "more than %d (region, hour) rows",
		                  LEDGER_MAX_HOURS);
	if (s->enriched) {
		h->enriched_lake += rows;
		h->enriched_lake_files++;
	} else {
		h->raw_lake += rows;
		h->raw_lake_files++;
	}
	return 0;
}

static int scan_day(struct scan *s, const char *region, int64_t day_us)
{
	struct time_civil c;
	char prefix[256];

	time_to_civil(day_us, &c);
	for (int top = 0; top < 2; top++) {
		int rc;

		s->enriched = top;
		snprintf(prefix, sizeof(prefix), "%s/region=%s/date=%04d-%02d-%02d/",
		         top ? "enriched" : "raw", region, c.year, c.month, c.day);
		rc = store_list(s->lake.store, prefix, on_file, s, s->err);
		if (rc)
			return rc;
	}
	return 0;
}

/* Every hour of the report starts at 0 lake rows: a hour with bookkeeping
 * and no file is then visibly missing. */
static void zero_lake(struct ledger_report *r)
{
	for (int i = 0; i < r->nhours; i++) {
		struct ledger_hour *h = &r->hours[i];

		h->raw_lake = h->raw_lake_files = h->enriched_lake = h->enriched_lake_files = 0;
	}
}

int ledger_lake_scan(const struct ts_config *cfg, const struct ledger_opts *o,
                     struct ledger_report *r, struct ts_err *err)
{
	char regions[MAX_REGIONS][12];
	struct scan s = {.r = r, .o = o, .err = err};
	int n, rc;

	n = o->region ? 1 : config_regions(cfg, regions[0], sizeof(regions[0]), MAX_REGIONS);
	rc = flow_lake_open(cfg, &s.lake, err);
	if (rc)
		return rc;
	dbuf_init(&s.buf, LEDGER_LAKE_FILE_MAX);
	zero_lake(r);
	r->lake_vanished = 0;
	for (int i = 0; !rc && i < n; i++) {
		const char *region = o->region ? o->region : regions[i];
		int64_t first =
		    o->from_us - ((o->from_us % (24 * HOUR_US)) + 24 * HOUR_US) % (24 * HOUR_US);

		for (int64_t day = first; !rc && day < o->to_us; day += 24 * HOUR_US)
			rc = scan_day(&s, region, day);
	}
	dbuf_release(&s.buf);
	flow_lake_close(&s.lake);
	return rc;
}
