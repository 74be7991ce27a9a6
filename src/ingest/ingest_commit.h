/*
 * The exactly-once bookkeeping of ingest, in PostgreSQL (tables
 * ingest_offsets and ingest_files, migration 1).
 *
 * A batch of one Kafka partition covers offsets [first, last]. Its files are
 * written in the staging area, then ONE transaction records the files and
 * moves the partition's next offset to last + 1 — so offsets and the set of
 * committed files change together — and only then are the files renamed
 * into raw/, where readers look. A crash before the commit leaves staging
 * leftovers that are removed on restart and re-consumed; a crash after it
 * leaves committed files that are published on restart.
 */
#ifndef INGEST_INGEST_COMMIT_H
#define INGEST_INGEST_COMMIT_H

#include <stdint.h>

#include "base/error.h"
#include "db/db.h"
#include "ingest/ingest_file.h"

struct ingest_batch {
	const struct ingest_lake *lake;
	const char *topic;
	int32_t partition;
	int64_t first, last;
	struct ingest_file *files;
	int nfiles;
	int64_t max_ts_us;  /* newest event time filed by the batch; 0 if none */
	int64_t lateness_s; /* ingest.lateness-s */
	int64_t late_rows;  /* out: rows that went into hours already closed */
};

/* Makes the partition known (next offset 0, no watermark) if it is not:
 * hours close only once every known partition has a watermark. */
int ingest_register(struct db *db, const char *topic, int32_t partition, struct ts_err *err);

/* The committed position of a partition: *next, or *found = 0. */
int ingest_load_offset(struct db *db, const char *topic, int32_t partition, int64_t *next,
                       int *found, struct ts_err *err);

/* Records the batch and moves the offset, in one transaction. The same
 * transaction counts the batch's rows into lake_hours (marking an hour that
 * was already closed as needing recomputation: late data), advances the
 * partition's watermark to the newest event time seen, and closes every hour
 * that all watermarks have passed by lateness_s. Fails with
 * TS_EFAILED, changing nothing, when another consumer has committed past
 * b->first (a zombie after a rebalance). */
int ingest_commit(struct db *db, struct ingest_batch *b, struct ts_err *err);

/* Idleness: a partition that is caught up and has had no record for idle_s
 * would hold every hour open forever (its watermark is the minimum). Its
 * watermark is moved to now - idle_s (never backwards), and the hours that
 * every watermark has now passed by lateness_s are closed, in one
 * transaction. A record that arrives later for an earlier hour is late data
 * like any other. */
int ingest_idle_advance(struct db *db, const char *topic, int32_t partition, int64_t idle_s,
                        int64_t lateness_s, struct ts_err *err);

/* Moves every committed, unpublished file of the partition into raw/ (a
 * rename in a local lake; upload of the staged copy, then its deletion, in
 * an object store), then removes the staging folder batch_dir, or, when it
 * is NULL, every staging leftover of the partition (only when no batch of
 * the partition is open in this process: on assignment). Idempotent. */
int ingest_publish(struct db *db, const struct ingest_lake *lake, const char *topic,
                   int32_t partition, const char *batch_dir, struct ts_err *err);

/* Removes everything staged under a key prefix ("_staging/plays/p3-o" or a
 * batch folder). */
int ingest_discard_staging(const struct ingest_lake *lake, const char *prefix, struct ts_err *err);

/* Removes one batch's staging folder (ingest_batch_dir), and nothing else. */
int ingest_discard_batch(const struct ingest_lake *lake, const char *batch_dir, struct ts_err *err);

#endif
