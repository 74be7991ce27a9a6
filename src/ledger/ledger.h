/*
 * The end-to-end ledger (docs/ledger.md): for a time range (event time) and
 * optionally one region, the count of plays at every stage of the pipeline,
 * per (region, hour), with every difference between two stages flagged and
 * classified:
 *
 *   accepted   api_accepted: the api's 202s (api_accepted.h)
 *   kafka      rows ingest took from Kafka and committed (ingest_files), plus,
 *              for the whole topic, the consumer lag and the dead letters
 *   raw        rows in raw/ — the Parquet footers of the lake's files when
 *              the lake is checked, else the published ingest_files
 *   enriched   distinct plays in enriched/ (footers or flow_enriched_files)
 *   hourly     the sum of plays_hourly (per-song counts) of the hour
 *   daily      the sum of per-song daily counts (plays_hourly by day) within
 *              the range, and the daily chart checked against them
 *
 * Each difference becomes a struct ledger_diff with a kind ("in_flight",
 * "dead_lettered", "missing", ...) and a class: in flight (will settle by
 * itself), settled (explained and nothing is lost or double-counted:
 * duplicates removed) or mismatch. The report is "balanced" when no
 * difference is in flight or a mismatch.
 *
 * Threads: a call uses its own db, store and Kafka handles; one thread.
 */
#ifndef LEDGER_LEDGER_H
#define LEDGER_LEDGER_H

#include <stdint.h>

#include "base/config.h"
#include "base/dbuf.h"
#include "base/error.h"

struct db;

#define LEDGER_MAX_HOURS   20000 /* (region, hour) rows one report holds */
#define LEDGER_MAX_DIFFS   12    /* differences one hour can have (at most 11) */
#define LEDGER_MAX_RANGE_S (366 * 86400LL)
/* Bounds each question to the brokers for the end offsets. */
#define LEDGER_KAFKA_TIMEOUT_MS 3000

struct kafka_watermarks;

struct ledger_opts {
	int64_t from_us, to_us; /* [from, to), whole hours after rounding out */
	const char *region;     /* NULL: every region */
	int check_lake;         /* read the lake's footers */
	/* Kafka's end offsets, asked after the api's counts (no cache: see
	 * ledger.c); NULL: the lag is not known. */
	struct kafka_watermarks *kafka;
};

enum ledger_class { LEDGER_IN_FLIGHT, LEDGER_SETTLED, LEDGER_MISMATCH };

struct ledger_diff {
	const char *stage; /* "kafka", "raw", "enriched", "hourly", "daily" */
	const char *kind;  /* docs/ledger.md lists them */
	enum ledger_class cls;
	int explained;
	int64_t count; /* plays concerned, > 0 */
	const char *detail;
};

struct ledger_hour {
	char region[12];
	int64_t hour_us;
	int64_t accepted, kafka, raw, raw_published, raw_unpublished, raw_pending;
	int64_t raw_lake, raw_lake_files; /* -1 when the lake was not checked */
	int64_t enriched, enriched_published, enriched_pending, duplicates, unknown_songs;
	int64_t enriched_lake, enriched_lake_files;
	int64_t hourly, daily, late;
	int64_t kafka_uncounted; /* committed before any api counted its 202s */
	/* kafka and enriched as the bookkeeping says after the lake scan,
	 * outside the snapshot (equal to them unless re-read): rows the scan
	 * found that were committed since the snapshot are in flight, not
	 * extra. */
	int64_t kafka_later, enriched_later;
	int ndiffs;
	struct ledger_diff diffs[LEDGER_MAX_DIFFS];
};

struct ledger_report {
	int64_t from_us, to_us, generated_us;
	char region[12]; /* "" = all */
	int lake_checked;
	int lake_vanished; /* files listed, gone before their footer was read */
	struct ledger_hour *hours;
	int nhours;
	int cursor; /* ledger_hour_get's last hit */
	/* Totals over the hours. */
	int64_t accepted, kafka, raw, enriched, duplicates, hourly, daily;
	/* The whole topic. */
	int lag_known;
	int64_t lag, end_offsets, committed_offsets;
	char lag_error[160];
	int64_t dead_letters; /* committed since from */
	int api_live, api_crashed;
	int64_t chart_hourly_bad, chart_daily_bad, all_region_bad; /* rows or hours */
	struct ledger_diff global[6];
	int nglobal;
	int in_flight, mismatches, unexplained; /* numbers of diffs */
	int balanced;
	const char *status; /* "balanced", "in_flight", "mismatch" */
};

/* Computes the report. Returns 0, TS_EINVAL (bad range), TS_EUNAVAIL
 * (database down), TS_ETOOBIG (more than LEDGER_MAX_HOURS rows), or the
 * lake's error when the lake is checked and unreadable. */
int ledger_run(struct db *db, const struct ts_config *cfg, const struct ledger_opts *o,
               struct ledger_report **out, struct ts_err *err);
/* NULL is a no-op. */
void ledger_report_free(struct ledger_report *r);

/* The stable JSON form (docs/ledger.md) and a table for terminals. */
int ledger_report_json(const struct ledger_report *r, struct dbuf *out);
int ledger_report_text(const struct ledger_report *r, struct dbuf *out);

#endif
