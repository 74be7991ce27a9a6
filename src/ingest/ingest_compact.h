/*
 * Compaction of closed hours in a local lake: the small files of one
 * (region, date, hour) folder are merged into one file, which replaces the
 * folder's contents in a single atomic step — renameat2(RENAME_EXCHANGE)
 * of the hour folder with a staged one — so a reader lists either the old
 * files or the merged one, never both and never neither.
 *
 * Publishing into an hour folder and compacting it take the same
 * PostgreSQL advisory lock (ingest_hour_lock), so no committed file can
 * slip in between the merge and the swap. Rows are copied value by value,
 * so the lake holds exactly the same records before and after.
 *
 * S3 lakes are not compacted: an object store has no atomic swap of many
 * objects.
 */
#ifndef INGEST_INGEST_COMPACT_H
#define INGEST_INGEST_COMPACT_H

#include <stdint.h>

#include "base/error.h"
#include "db/db.h"

/* Takes (lock = 1) or releases (lock = 0) the advisory lock of the hour
 * folder `dir` ("raw/region=EU/date=2026-11-25/hour=13"). */
int ingest_hour_lock(struct db *db, const char *dir, int lock, struct ts_err *err);

/* Compacts up to max_hours closed hours that have more than one file and
 * changed since their last compaction. *hours gets how many were merged. */
int ingest_compact_closed(struct db *db, const char *root, int max_hours, int *hours,
                          struct ts_err *err);

/* Merges the files of one hour folder (key relative to root) into one.
 * *files_in gets how many files were merged (0 or 1: nothing to do). */
int ingest_compact_dir(struct db *db, const char *root, const char *dir, int *files_in,
                       int64_t *rows, struct ts_err *err);

#endif
