/*
 * The api's ledger counts (docs/ledger.md): how many plays it answered 202,
 * per (region, event hour), kept durably in PostgreSQL table api_accepted so
 * that `topsongs ledger` can compare them with Kafka, the lake and the
 * charts.
 *
 * POST /play never waits for the database: the request threads only add to
 * an in-memory table under a mutex; a background thread moves the table
 * into PostgreSQL once a second (one transaction: the counts, plus this
 * instance's flushed_at in api_instances). When PostgreSQL is down the counts
 * stay in memory and go with the next flush that works; when the table of
 * pending (region, hour) pairs is full (API_ACCEPTED_SLOTS), further pairs
 * are counted as dropped and logged, never allocated. api_accepted_free
 * flushes a last time (bounded) and marks the instance stopped, so a row
 * with no stopped_at and an old flushed_at is an api that died — and lost
 * at most the counts of its last second, unless api.journal-dir is set:
 * then the counts are also journaled (api_journal.h) and an api on the same
 * folder recovers them.
 *
 * Threads: api_accepted_note and api_accepted_count from any request thread.
 */
#ifndef API_API_ACCEPTED_H
#define API_API_ACCEPTED_H

#include <stddef.h>
#include <stdint.h>

#include "base/config.h"
#include "base/error.h"

#define API_ACCEPTED_SLOTS      4096
#define API_ACCEPTED_FLUSH_MS   1000
#define API_ACCEPTED_RECOVER_MS 10000 /* scans of the journal folder for gone apis */

struct api_accepted;
struct api_request;
struct db;
struct play_event;

/* Starts the flush thread (which connects lazily). cfg must outlive it. */
int api_accepted_new(const struct ts_config *cfg, struct api_accepted **out, struct ts_err *err);
/* Stops the thread after a last flush of at most ~2 s. NULL is a no-op. */
void api_accepted_free(struct api_accepted *a);

/* Remembers item i's region and event hour (a validated event). */
void api_accepted_note(struct api_request *req, size_t i, const struct play_event *ev);
/* Counts every item of req answered 202, once its statuses are final. */
void api_accepted_count(struct api_request *req);

/* Adds plays to api_accepted's row of (region, hour), in the caller's
 * transaction: the flush's and the journal recovery's one statement. */
int api_accepted_record(struct db *db, const char *region, int32_t hour, int64_t plays,
                        struct ts_err *err);

/* Counts n plays of region index r (in cfg->regions order) and hour (hours
 * since the epoch). For the tests and for the two calls above. */
void api_accepted_add(struct api_accepted *a, int r, int32_t hour, int64_t n);

#endif
