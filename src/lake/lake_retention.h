/*
 * Retention of the lake: deletes the raw/ and enriched/ hour partitions
 * older than a cut-off, together with their bookkeeping rows (ingest_files,
 * lake_hours, flow_enriched_files, flow_enrich_inputs). The charts in
 * PostgreSQL (plays_hourly, top_songs_*) are kept: they are sums already
 * made, and nothing re-reads a counted file.
 *
 * One hour at a time, oldest first, under the locks the writers of that
 * hour take, in their order — the enrich lock of (region, day, hour), then
 * ingest's hour lock — so ingest cannot publish, compaction cannot swap and
 * enrich cannot read the hour meanwhile:
 *
 *   1. one transaction: skip the hour if it still has work that is not in
 *      the charts (a raw file not enriched, an enriched file not published
 *      or not aggregated); else delete its bookkeeping rows and record the
 *      hour in lake_pruned with files_deleted_at NULL;
 *   2. delete every object under raw/<hour>/, enriched/<hour>/ and the
 *      hour's enrich staging prefix;
 *   3. set files_deleted_at.
 *
 * A run killed between 1 and 3 leaves rows of lake_pruned with
 * files_deleted_at NULL; every run starts by finishing those, whatever its
 * cut-off. Deleting an object that is already gone is not an error, so every
 * step is idempotent. Hours are found in the bookkeeping and by listing
 * raw/region=R/ and enriched/region=R/ for the configured regions (stopping
 * at the first date past the cut-off: keys list in byte order), so files
 * without rows — left by an older crash, or copied in by hand — go too.
 *
 * A struct db is one connection; one thread.
 */
#ifndef LAKE_LAKE_RETENTION_H
#define LAKE_LAKE_RETENTION_H

#include <stdint.h>

#include "base/config.h"
#include "base/error.h"

struct db;

struct lake_retention_opts {
	int64_t cutoff_us;  /* hours that end at or before this go; a multiple of an hour */
	const char *region; /* NULL: every region */
	int dry_run;        /* find and count, change nothing */
};

struct lake_retention_stats {
	int64_t hours;         /* hours pruned (or, dry run, that would be) */
	int64_t hours_pending; /* hours kept: work not yet in the charts */
	int64_t hours_resumed; /* hours of an earlier, interrupted run finished */
	int64_t objects;       /* objects deleted (or that would be) */
	int64_t raw_rows;      /* raw rows their ingest_files rows counted */
};

/* Called once per hour handled, for reports; may be NULL. */
typedef void (*lake_retention_fn)(const char *region, const char *day, int hour,
                                  const char *verdict, int64_t objects, void *arg);

/*
 * Runs retention on the lake of cfg. Returns 0; TS_EUNAVAIL / TS_ETIMEDOUT
 * (database or store down: run again), TS_EFAILED, TS_EIO, TS_ETOOBIG (more
 * hours than LAKE_RETENTION_MAX_HOURS in one run: run again), with err set.
 * st is filled as far as the run went.
 */
#define LAKE_RETENTION_MAX_HOURS 200000
int lake_retention_run(struct db *db, const struct ts_config *cfg,
                       const struct lake_retention_opts *o, lake_retention_fn fn, void *arg,
                       struct lake_retention_stats *st, struct ts_err *err);

#endif
