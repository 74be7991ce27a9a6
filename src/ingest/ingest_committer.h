/*
 * The committer: threads of ingest that write, commit and publish the
 * batches the main thread seals, so that reading and filing the next
 * records overlaps a batch's encoding, compression, fsyncs and PostgreSQL
 * round trips (docs/ingest.md, "The committer"). Two writer threads write
 * sealed batches' files, two batches at once; one committer thread then
 * syncs, commits and publishes them one at a time, in the order they were
 * sealed.
 *
 * Exactly once rests on two rules kept here: batches are committed in the
 * order they were sealed (one queue, one committing thread), and once one
 * fails, none after it is committed: they are dropped with it (their files
 * discarded), the error is reported to the main thread, and ingest starts
 * again from the committed offsets, as after any failed commit.
 *
 * Threads: every function is called from ingest's main thread.
 */
#ifndef INGEST_INGEST_COMMITTER_H
#define INGEST_INGEST_COMMITTER_H

#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "base/config.h"
#include "base/error.h"
#include "ingest/ingest.h"
#include "ingest/ingest_file.h"

/* A sealed batch: a partition's offsets [first, last] in its files. */
struct ingest_job {
	int32_t partition;
	int64_t first, last;
	int64_t rows;
	int64_t bytes; /* record values taken into the batch */
	int64_t max_ts_us;
	struct ingest_file *files; /* malloc'd, owned by the job */
	int nfiles;
	char dir[INGEST_PATH_MAX]; /* its staging folder */
};

struct ingest_committer;

/* Starts the threads: the committer with a PostgreSQL connection and lake
 * of its own, each writer with a lake of its own; dlq is the main thread's
 * dead-letter producer, whose records a batch waits for before its offsets
 * commit. */
int ingest_committer_start(const struct ts_config *cfg, struct ingest_stats *stats, rd_kafka_t *dlq,
                           struct ingest_committer **out, struct ts_err *err);

/* Queues a sealed batch and takes its files (job->files is then NULL).
 * Waits while the queue is full. Returns 0, or the committer's error once
 * it has failed (the batch will be dropped, not committed). */
int ingest_committer_push(struct ingest_committer *c, struct ingest_job *job, struct ts_err *err);

/* Waits until every queued batch is committed and published (or, after a
 * failure, dropped); returns 0 or the committer's error. */
int ingest_committer_drain(struct ingest_committer *c, struct ts_err *err);

/* Waits until a batch's files are written or a batch is finished, or none
 * is queued. */
void ingest_committer_wait_one(struct ingest_committer *c);

/* Record bytes of the batches queued whose files are not written yet
 * (fsyncs, commits and publications hold no rows). */
int64_t ingest_committer_bytes(struct ingest_committer *c);

/* 0, or the committer's error code (and *err) once a batch failed. */
int ingest_committer_failed(struct ingest_committer *c, struct ts_err *err);

/* Serialises the main thread's own writes to PostgreSQL (idle watermarks,
 * compaction) with the committer's transactions: two connections of one
 * process locking lake_hours rows in different orders could deadlock. */
void ingest_committer_lock_db(struct ingest_committer *c);
void ingest_committer_unlock_db(struct ingest_committer *c);

/* Held by the main thread while it queues a dead letter, and by the
 * committer while it waits for the dead letters queued so far. */
void ingest_committer_lock_dlq(struct ingest_committer *c);
void ingest_committer_unlock_dlq(struct ingest_committer *c);

/* 1 while a batch of the partition is queued or being committed, or the
 * committer has failed: its hours must not be closed by idleness yet. */
int ingest_committer_holds(struct ingest_committer *c, int32_t partition);

/* Stops the threads after the batches in hand; batches still queued are
 * dropped (their records are consumed again). NULL is a no-op. */
void ingest_committer_stop(struct ingest_committer *c);

#endif
