/*
 * Compaction of closed hours: the small files of one (region, date, hour)
 * are merged into files of about a target size (runs of files, in name
 * order, adding up to at most the target; ingest_compact_plan),
 * atomically for every reader that goes through the lake's bookkeeping,
 * and — on a local lake — for readers that list the folder too.
 *
 * Local lake: the merges (and links to the files left as they are) are
 * written into a staged folder with a manifest of which input went into
 * which output; the folder then trades places with the hour folder in one
 * renameat2(RENAME_EXCHANGE), so a reader lists either the old files or the
 * new set, never both and never neither; the bookkeeping is made from the
 * manifest, which a crash leaves in the hour folder for the next round.
 *
 * S3 lake: an object store has no atomic swap of many objects, so the
 * commit point is PostgreSQL, as in table formats like Iceberg: the merged
 * objects are uploaded, then one transaction points each merged file's
 * ingest_files rows at its output (compacted_into), then the old objects
 * are deleted.
 * Readers of ingest_files (the flows) switch from the old files to the
 * merged one in that transaction; an engine that lists the bucket itself
 * can see both for the moment between the upload and the deletes.
 * Whatever a crash leaves behind — a merged object not yet recorded, old
 * objects not yet deleted — is removed by the next round for that hour.
 *
 * Either way, after a compaction the one physical file that holds a
 * committed file's rows is coalesce(compacted_into, path), and rows are
 * copied value by value, so the lake holds exactly the same records.
 * Publishing into an hour and compacting it take the same PostgreSQL
 * advisory lock (ingest_hour_lock), so no committed file slips in between.
 */
#ifndef INGEST_INGEST_COMPACT_H
#define INGEST_INGEST_COMPACT_H

#include <stdint.h>

#include "base/error.h"
#include "db/db.h"
#include "ingest/ingest_file.h"

/* Takes (lock = 1) or releases (lock = 0) the advisory lock of the hour
 * folder `dir` ("raw/region=EU/date=2026-11-25/hour=13"). */
int ingest_hour_lock(struct db *db, const char *dir, int lock, struct ts_err *err);
/* The same for every hour folder of dirs, a text[] literal (db_array_add),
 * in one statement. */
int ingest_hours_lock(struct db *db, const char *dirs, int lock, struct ts_err *err);

/* 1 when the local hour folder `hour` (a path) holds a compaction's
 * output. Under the hour lock, a committed file whose staged copy and
 * published copy are both gone was published and then merged by such a
 * compaction, which may have crashed before its bookkeeping. */
int ingest_compact_merged_into(const char *hour);

/* The plan of a compaction over n files sorted by name, of size[i] bytes:
 * files of target bytes or more are left as they are, the others are cut
 * in name order into runs whose sizes add up to at most target (0: one
 * run); a run of one file is left as it is too. run[i] gets file i's run,
 * numbered from 0, or -1; returns the number of runs. */
int ingest_compact_plan(const uint64_t *size, int n, uint64_t target, int *run);

/* Compacts up to max_hours closed hours that have more than one file and
 * changed since their last compaction. *hours gets how many were merged. */
int ingest_compact_closed(struct db *db, const struct ingest_lake *lake, int max_hours, int *hours,
                          struct ts_err *err);

/* Compacts one hour folder (key relative to the lake) to lake->
 * compact_target. *files_in gets how many files were merged (0: nothing to
 * do). */
int ingest_compact_dir(struct db *db, const struct ingest_lake *lake, const char *dir,
                       int *files_in, int64_t *rows, struct ts_err *err);

#endif
