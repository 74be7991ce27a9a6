/*
 * Flows: the batch steps between the raw lake and the charts (enrich,
 * aggregate, ...), in one declarative table that the scheduler, the
 * `topsongs flows` command and the docs read.
 *
 * A flow run is idempotent and safe to run concurrently with itself and
 * with other flows: it takes a PostgreSQL advisory lock per (flow, region,
 * day, hour) it writes, and every partition it publishes moves in one
 * transaction with its bookkeeping, so a run killed at any point and run
 * again gives the same tables and lake. Each run processes only what is new
 * since the last committed run, within [from_us, to_us) and region when set.
 *
 * A flow reports, it does not print: counts go into *stats, the reason of a
 * failure into err (naming the lake file or table at fault).
 */
#ifndef FLOW_FLOW_H
#define FLOW_FLOW_H

#include <stddef.h>
#include <stdint.h>

#include "base/config.h"
#include "base/error.h"

struct db;

struct flow_args {
	const struct ts_config *cfg; /* lake location, catalog, limits */
	int64_t from_us;             /* event-time range [from_us, to_us); 0 = unbounded */
	int64_t to_us;
	const char *region; /* NULL: every region */
};

struct flow_stats {
	int64_t rows_in;    /* rows read */
	int64_t rows_out;   /* rows written (lake rows or table rows) */
	int64_t partitions; /* (region, day, hour) partitions touched */
};

struct flow_def {
	const char *name;             /* "enrich", "aggregate" */
	const char *summary;          /* one line for help and docs */
	const char *default_schedule; /* schedule syntax of the scheduler, e.g. "every 2s" */
	/* Runs once on db (one connection, used by this thread only).
	 * Returns 0 or a TS_E* code: TS_EUNAVAIL and TS_ETIMEDOUT are worth a
	 * retry; TS_ECORRUPT names a bad lake file. */
	int (*run)(struct db *db, const struct flow_args *args, struct flow_stats *stats,
	           struct ts_err *err);
	/* Also run as soon as a run of this flow that wrote rows succeeds
	 * (trigger "after"), so that its output is not left waiting for the
	 * next fire; NULL: on the schedule only. */
	const char *after;
};

/* The flow table, in dependency order (enrich before aggregate). */
extern const struct flow_def flow_table[];
extern const size_t flow_count;

/* The flow called name, or NULL. */
const struct flow_def *flow_find(const char *name);

#endif
