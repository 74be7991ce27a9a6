/*
 * Unit tests of the ledger's classification rules (ledger_classify.c) and
 * of its JSON document: each rule of docs/ledger.md ("Differences") on a
 * hand-made report.
 */
#include "tests/unit/test.h"
#include "base/dbuf.h"
#include "ledger/ledger.h"
#include "ledger/ledger_classify.h"

static struct ledger_hour hours[4];

/* One balanced hour of n plays, no lake numbers. */
static void one_hour(struct ledger_report *r, int64_t n)
{
	memset(r, 0, sizeof(*r));
	memset(hours, 0, sizeof(hours));
	r->hours = hours;
	r->nhours = 1;
	r->lag_known = 1;
	snprintf(hours[0].region, sizeof(hours[0].region), "EU");
	hours[0].hour_us = 1764000000000000LL;
	hours[0].accepted = hours[0].kafka = hours[0].raw_published = n;
	hours[0].enriched = hours[0].enriched_published = n;
	hours[0].hourly = hours[0].daily = n;
	hours[0].raw_lake = hours[0].enriched_lake = -1;
}

static const struct ledger_diff *find(const struct ledger_report *r, const char *kind)
{
	for (int i = 0; i < r->nhours; i++)
		for (int j = 0; j < r->hours[i].ndiffs; j++)
			if (!strcmp(r->hours[i].diffs[j].kind, kind))
				return &r->hours[i].diffs[j];
	for (int i = 0; i < r->nglobal; i++)
		if (!strcmp(r->global[i].kind, kind))
			return &r->global[i];
	return NULL;
}

TEST(ledger_balanced)
{
	struct ledger_report r;

	one_hour(&r, 100);
	ledger_classify(&r);
	CHECK(r.balanced);
	CHECK_STR(r.status, "balanced");
	CHECK_INT(r.hours[0].ndiffs, 0);
	CHECK_INT(r.nglobal, 0);
	CHECK_INT((int)r.accepted, 100);
}

TEST(ledger_duplicates_balance)
{
	struct ledger_report r;

	/* A client posted 5 plays twice, each 202: 105 in Kafka, 100 distinct. */
	one_hour(&r, 100);
	hours[0].accepted = hours[0].kafka = hours[0].raw_published = 105;
	hours[0].duplicates = 5;
	ledger_classify(&r);
	CHECK(r.balanced);
}

TEST(ledger_lag_then_dead_then_missing)
{
	struct ledger_report r;
	const struct ledger_diff *d;

	one_hour(&r, 100);
	hours[0].accepted = 110;
	r.lag = 4;
	r.dead_letters = 3;
	ledger_classify(&r);
	CHECK(!r.balanced);
	CHECK_STR(r.status, "mismatch");
	d = find(&r, "in_flight");
	REQUIRE(d);
	CHECK_INT((int)d->count, 4);
	CHECK_STR(d->stage, "kafka");
	d = find(&r, "dead_lettered");
	REQUIRE(d);
	CHECK_INT((int)d->count, 3);
	CHECK(d->explained && d->cls == LEDGER_MISMATCH);
	d = find(&r, "missing");
	REQUIRE(d);
	CHECK_INT((int)d->count, 3);
	CHECK(!d->explained);
	CHECK_INT(r.unexplained, 1);
}

TEST(ledger_in_flight_only)
{
	struct ledger_report r;

	one_hour(&r, 100);
	hours[0].accepted = 102;
	r.lag = 7; /* 2 of ours, 5 of no known hour */
	hours[0].raw_pending = 10;
	hours[0].enriched = hours[0].enriched_published = 90;
	hours[0].hourly = hours[0].daily = 80;
	hours[0].enriched_pending = 10;
	ledger_classify(&r);
	CHECK(!r.balanced);
	CHECK_STR(r.status, "in_flight");
	CHECK_INT(r.mismatches, 0);
	CHECK_INT(r.in_flight, 4); /* kafka, enriched, hourly, and the global lag */
}

TEST(ledger_unknown_lag)
{
	struct ledger_report r;

	one_hour(&r, 100);
	hours[0].accepted = 101;
	r.lag_known = 0;
	ledger_classify(&r);
	REQUIRE(find(&r, "unknown"));
	CHECK_STR(r.status, "mismatch");
}

TEST(ledger_without_202)
{
	struct ledger_report r;
	const struct ledger_diff *d;

	/* 3 records in Kafka without a 202, 2 of them retried and deduplicated. */
	one_hour(&r, 100);
	hours[0].kafka = hours[0].raw_published = 103;
	hours[0].duplicates = 2;
	hours[0].enriched = hours[0].enriched_published = 101;
	hours[0].hourly = hours[0].daily = 101;
	ledger_classify(&r);
	d = find(&r, "duplicate_removed");
	REQUIRE(d);
	CHECK_INT((int)d->count, 2);
	CHECK(d->cls == LEDGER_SETTLED);
	d = find(&r, "not_accepted");
	REQUIRE(d);
	CHECK_INT((int)d->count, 1);
	CHECK(!d->explained);

	r.api_crashed = 1;
	ledger_classify(&r);
	REQUIRE(find(&r, "api_counts_lost"));
	CHECK(!find(&r, "not_accepted"));
	CHECK_INT(r.unexplained, 0);

	r.api_crashed = 0;
	r.api_live = 1;
	ledger_classify(&r);
	CHECK_STR(r.status, "in_flight");

	/* Rows in the lake from before any api counted its 202s (a lake older
	 * than the ledger) are settled, not in flight and not a mismatch. */
	r.api_live = 0;
	hours[0].kafka_uncounted = 1;
	ledger_classify(&r);
	d = find(&r, "not_counted");
	REQUIRE(d);
	CHECK_INT((int)d->count, 1);
	CHECK(d->cls == LEDGER_SETTLED);
	CHECK(!find(&r, "not_accepted"));
	CHECK_STR(r.status, "balanced");
}

/* Live traffic: the lake scan, after the snapshot, finds files published
 * since. Rows the bookkeeping committed by the time it is read again are
 * in flight; rows no one committed are still a stray file. */
TEST(ledger_lake_ahead_of_snapshot)
{
	struct ledger_report r;
	const struct ledger_diff *d;

	one_hour(&r, 100);
	hours[0].raw_lake = 130;
	hours[0].kafka_later = 130;
	hours[0].enriched_lake = 120;
	hours[0].enriched_later = 125;
	ledger_classify(&r);
	CHECK_STR(r.status, "in_flight");
	CHECK_INT(r.mismatches, 0);
	CHECK_INT(r.in_flight, 2);
	d = find(&r, "in_flight");
	REQUIRE(d);
	CHECK_STR(d->stage, "raw");
	CHECK_INT((int)d->count, 30);
	CHECK_INT((int)r.hours[0].diffs[1].count, 20);
	CHECK_STR(r.hours[0].diffs[1].stage, "enriched");

	one_hour(&r, 100);
	hours[0].raw_lake = 130;
	hours[0].kafka_later = 110; /* 20 rows no one committed */
	hours[0].enriched_lake = 100;
	ledger_classify(&r);
	CHECK_STR(r.status, "mismatch");
	d = find(&r, "lake_extra");
	REQUIRE(d);
	CHECK_INT((int)d->count, 20);
	CHECK(!d->explained);
	d = find(&r, "in_flight");
	REQUIRE(d);
	CHECK_INT((int)d->count, 10);
}

TEST(ledger_lake_and_flows)
{
	struct ledger_report r;
	const struct ledger_diff *d;

	one_hour(&r, 100);
	hours[0].raw_lake = 90; /* a file of 10 rows deleted */
	hours[0].enriched_lake = 100;
	hours[0].hourly = 97; /* a song's 3 plays deleted from plays_hourly */
	ledger_classify(&r);
	d = find(&r, "lake_missing");
	REQUIRE(d);
	CHECK_STR(d->stage, "raw");
	CHECK_INT((int)d->count, 10);
	d = find(&r, "aggregate_missing");
	REQUIRE(d);
	CHECK_INT((int)d->count, 3);
	CHECK_INT((int)r.raw, 90);

	one_hour(&r, 100);
	hours[0].raw_lake = 100;
	hours[0].enriched_lake = 100;
	hours[0].kafka = 110; /* 10 committed, not yet published */
	hours[0].accepted = 110;
	hours[0].raw_pending = 10;
	ledger_classify(&r);
	CHECK_STR(r.status, "in_flight");

	one_hour(&r, 100);
	hours[0].enriched = hours[0].enriched_published = 98;
	hours[0].hourly = hours[0].daily = 98;
	ledger_classify(&r);
	d = find(&r, "enrich_missing");
	REQUIRE(d);
	CHECK_INT((int)d->count, 2);

	one_hour(&r, 100);
	r.chart_hourly_bad = 1;
	ledger_classify(&r);
	REQUIRE(find(&r, "chart_mismatch"));
}

TEST(ledger_json_fields)
{
	struct ledger_report r;
	struct dbuf b;

	one_hour(&r, 100);
	hours[0].accepted = 101;
	r.from_us = 1764000000000000LL;
	r.to_us = r.from_us + 3600000000LL;
	ledger_classify(&r);
	dbuf_init(&b, 1 << 20);
	CHECK_INT(ledger_report_json(&r, &b), 0);
	CHECK(strstr(dbuf_str(&b), "\"status\":\"mismatch\",\"balanced\":false"));
	CHECK(strstr(dbuf_str(&b),
	             "\"kind\":\"missing\",\"class\":\"mismatch\",\"explained\":false"));
	CHECK(strstr(dbuf_str(&b), "\"totals\":{\"accepted\":101,\"kafka\":100,\"raw\":100"));
	CHECK(strstr(dbuf_str(&b), "\"hour\":\"2025-11-24T16:00:00.000Z\""));
	CHECK(strstr(dbuf_str(&b), "\"raw_lake\":null"));
	dbuf_reset(&b);
	CHECK_INT(ledger_report_text(&r, &b), 0);
	CHECK(strstr(dbuf_str(&b), "[UNEXPLAINED]"));
	dbuf_release(&b);
}
