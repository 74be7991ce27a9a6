/*
 * The api's journal of 202s (docs/ledger.md, "What a crash can lose"): lets
 * the ledger's accepted counts survive a SIGKILL of the api.
 *
 * api_accepted keeps the 202 counts in memory and moves them into
 * PostgreSQL once a second. With a journal folder configured
 * (api.journal-dir), each request's counts are also appended — write(2),
 * before its answer is queued — to a local segment file; the kernel keeps
 * what was written even when the process is killed. Each flush starts a new
 * segment and records, in the transaction that adds the counts, the number
 * of the last segment it covers (api_instances.journal_seq); once committed,
 * the segments it covers are deleted.
 *
 * Files in the folder, for an instance ID (host:pid:start-time):
 *   ID.lock          held with flock(2) while the instance lives
 *   ID.SEQ.journal   records of 16 bytes: region (8 bytes, NUL-padded),
 *                    event hour (hours since the epoch) and plays, both
 *                    32-bit little-endian
 *
 * An api starting on the folder recovers every instance whose lock it can
 * take (the instance is gone): it adds the plays of the segments after the
 * instance's journal_seq to api_accepted, marks the instance recovered and
 * stopped, all in one transaction, then deletes its files.
 *
 * Threads: append, rotate and committed under the caller's lock (the
 * api_accepted mutex); recover from the flush thread only.
 */
#ifndef API_API_JOURNAL_H
#define API_API_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define API_JOURNAL_RECORD 16
#define API_JOURNAL_REGION 8

struct api_journal;
struct db;

/* Creates ID.lock (locked) and the first segment in dir (created if absent). */
int api_journal_open(const char *dir, const char *instance, struct api_journal **out,
                     struct ts_err *err);
/* Closes the files; remove deletes them (every count is in PostgreSQL).
 * NULL is a no-op. */
void api_journal_close(struct api_journal *j, int remove);

/* Encodes one record into out; 0, or TS_EINVAL for a region that does not
 * fit or plays outside 1..2^31-1. */
int api_journal_encode(const char *region, int32_t hour, int64_t plays,
                       unsigned char out[API_JOURNAL_RECORD]);
/* Appends n encoded bytes to the current segment. A failed or short write
 * turns the journal off (logged once) and deletes that segment: the counts
 * are then only in memory, as without a journal. */
void api_journal_append(struct api_journal *j, const void *records, size_t n);
/* Ends the current segment, if anything was appended to it, and starts the
 * next; returns the number of the last segment ended (the flush that
 * follows covers it and all before it; once it commits they are deleted).
 * A journal turned off keeps returning its last ended segment. */
int64_t api_journal_rotate(struct api_journal *j);
/* The counts of segments <= seq are in PostgreSQL: deletes them. */
void api_journal_committed(struct api_journal *j, int64_t seq);
/* While PostgreSQL is unreachable the segments would pile up, one a second:
 * records are the caller's whole pending table (which holds every count
 * of the segments so far), written to a new segment that replaces them.
 * So the folder holds at most a table's worth plus a second of appends.
 * Segments <= keep stay, and records must then leave out their counts: a
 * flush that covered them may have committed (its answer was lost), and
 * api_instances.journal_seq tells a recovering api whether to add them. */
void api_journal_checkpoint(struct api_journal *j, const void *records, size_t n, int64_t keep);

/* Calls fn for each record of a segment's bytes. A cut last record (a
 * write interrupted by a power loss) is ignored; a record with a bad
 * region or plays is TS_ECORRUPT, naming its offset, and fn is not called
 * for it or any after it. */
int api_journal_parse(const void *buf, size_t len,
                      int (*fn)(const char *region, int32_t hour, int64_t plays, void *arg),
                      void *arg, struct ts_err *err);

/* Recovers the instances in dir whose lock is free (see above); own is
 * skipped. Returns 0 or the first error; a corrupt segment is logged and
 * left in place, and its instance not recovered. */
int api_journal_recover(struct db *db, const char *dir, const char *own, struct ts_err *err);

#endif
