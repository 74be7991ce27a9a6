/*
 * What the flows share about the lake and the database: opening the lake's
 * store, the keys of lake partitions and of enriched files (pure, unit
 * tested), moving a staged object to its published key, the advisory lock
 * of a (flow, region, day, hour), and the range filter of struct flow_args
 * as statement parameters.
 *
 * Layout, keys relative to the lake root:
 *   raw/region=R/date=YYYY-MM-DD/hour=HH/...            (ingest)
 *   enriched/region=R/date=YYYY-MM-DD/hour=HH/enriched-<16 hex>.parquet
 *   _staging/enrich/R-YYYY-MM-DD-HH/enriched-<16 hex>.parquet
 * The 16 hex digits are a digest of the sorted raw files the enriched file
 * was made from, so a re-run of the same work writes the same name.
 */
#ifndef FLOW_FLOW_LAKE_H
#define FLOW_FLOW_LAKE_H

#include <stddef.h>
#include <stdint.h>

#include "base/config.h"
#include "base/dbuf.h"
#include "base/error.h"
#include "flow/flow.h"

struct db;
struct store;

#define FLOW_KEY_MAX 1024
/* The largest lake file a flow reads into memory. */
#define FLOW_FILE_MAX (1ull << 30)

struct flow_lake {
	struct store *store;
	const char *root; /* a local lake's folder, NULL for S3 */
};

int flow_lake_open(const struct ts_config *cfg, struct flow_lake *l, struct ts_err *err);
void flow_lake_close(struct flow_lake *l);

/* "raw/region=EU/date=2026-11-25/hour=07" (top = "raw" or "enriched"). */
void flow_hour_dir(const char *top, const char *region, const char *day, int hour, char *out,
                   size_t size);
/* The enriched key and the staged key of an enriched file with digest. */
void flow_enriched_key(const char *region, const char *day, int hour, uint64_t digest, char *out,
                       size_t size);
void flow_enriched_staged(const char *region, const char *day, int hour, uint64_t digest, char *out,
                          size_t size);
/* The staging prefix of one hour: "_staging/enrich/EU-2026-11-25-07/". */
void flow_enriched_staging_dir(const char *region, const char *day, int hour, char *out,
                               size_t size);

/* Moves staged to final (store_move: a rename in a folder, a copy and a
 * delete on S3). A staged object already moved (final present, staged
 * absent) is fine; both absent is TS_ECORRUPT. */
int flow_lake_move(struct flow_lake *l, const char *staged, const char *final, struct ts_err *err);
/* Removes every object under prefix. */
int flow_lake_discard(struct flow_lake *l, const char *prefix, struct ts_err *err);

/* pg_advisory_xact_lock of (flow, region, day, hour): inside a transaction. */
int flow_lock(struct db *db, const char *flow, const char *region, const char *day, int hour,
              struct ts_err *err);

/* The range of args as three statement parameters: region (or NULL), from
 * and to as epoch seconds (or NULL). bufs must hold 2 x 32 bytes. */
void flow_range_params(const struct flow_args *args, char bufs[2][32], const char *params[3]);

/* The SQL condition matching an hour (columns region, day, hour) to those
 * parameters, numbered from $1. */
#define FLOW_RANGE_SQL                                                                             \
	"($1::text IS NULL OR region = $1) AND ($2::float8 IS NULL OR "                            \
	"(day + make_interval(hours => hour + 1)) AT TIME ZONE 'UTC' > to_timestamp($2)) AND "     \
	"($3::float8 IS NULL OR (day + make_interval(hours => hour)) AT TIME ZONE 'UTC' < "        \
	"to_timestamp($3))"

#endif
