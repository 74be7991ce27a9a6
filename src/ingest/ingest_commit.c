/*
 * See ingest_commit.h. Every statement is parameterised.
 */
#include "base/common.h"
#include "base/fsutil.h"
#include "base/log.h"
#include "ingest/ingest_commit.h"

#include <dirent.h>

int ingest_load_offset(struct db *db, const char *topic, int32_t partition, int64_t *next,
                       int *found, struct ts_err *err)
{
	char part[16];
	const char *params[] = {topic, part};
	PGresult *r = NULL;
	int rc;

	snprintf(part, sizeof(part), "%d", (int)partition);
	rc = db_execp(db,
	              "SELECT next_offset FROM ingest_offsets WHERE topic = $1 AND "
	              "kafka_partition = $2",
	              2, params, &r, err);
	if (rc)
		return rc;
	*found = PQntuples(r) == 1;
	*next = *found ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : 0;
	PQclear(r);
	return 0;
}

/* Locks the partition's row; fails if another consumer went past first. */
static int fence(struct db *db, const struct ingest_batch *b, struct ts_err *err)
{
	int64_t next = 0;
	int found = 0, rc;
	char part[16];
	const char *params[] = {b->topic, part};
	PGresult *r = NULL;

	snprintf(part, sizeof(part), "%d", (int)b->partition);
	rc = db_execp(db,
	              "SELECT next_offset FROM ingest_offsets WHERE topic = $1 AND "
	              "kafka_partition = $2 FOR UPDATE",
	              2, params, &r, err);
	if (rc)
		return rc;
	found = PQntuples(r) == 1;
	if (found)
		next = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	if (found && next > b->first)
		return ts_err_set(err, TS_EFAILED,
		                  "partition %d: offsets up to %lld were committed by another "
		                  "consumer; dropping this batch from %lld",
		                  (int)b->partition, (long long)next - 1, (long long)b->first);
	return 0;
}

static int record_file(struct db *db, const struct ingest_batch *b, const struct ingest_file *f,
                       struct ts_err *err)
{
	char final[INGEST_PATH_MAX], part[16], first[24], last[24], day[16], hour[8], rows[24];
	size_t lake_len = strlen(b->lake);
	/* Paths are stored relative to the lake, which may move. */
	const char *staged =
	    strncmp(f->staged, b->lake, lake_len) ? f->staged : f->staged + lake_len + 1;
	const char *params[] = {final, staged,    b->topic, part, first,
	                        last,  f->region, day,      hour, rows};

	ingest_file_final_path(f, NULL, b->topic, b->partition, b->first, b->last, final,
	                       sizeof(final));
	snprintf(part, sizeof(part), "%d", (int)b->partition);
	snprintf(first, sizeof(first), "%lld", (long long)b->first);
	snprintf(last, sizeof(last), "%lld", (long long)b->last);
	snprintf(day, sizeof(day), "%04d-%02d-%02d", f->year, f->month, f->day);
	snprintf(hour, sizeof(hour), "%d", f->hour);
	snprintf(rows, sizeof(rows), "%lld", (long long)f->rows);
	return db_execp(db,
	                "INSERT INTO ingest_files (path, staged_path, topic, kafka_partition, "
	                "first_offset, last_offset, region, day, hour, rows) VALUES ($1, $2, $3, "
	                "$4, $5, $6, $7, $8, $9, $10)",
	                10, params, NULL, err);
}

static int move_offset(struct db *db, const struct ingest_batch *b, struct ts_err *err)
{
	char part[16], next[24];
	const char *params[] = {b->topic, part, next};

	snprintf(part, sizeof(part), "%d", (int)b->partition);
	snprintf(next, sizeof(next), "%lld", (long long)b->last + 1);
	return db_execp(db,
	                "INSERT INTO ingest_offsets (topic, kafka_partition, next_offset) VALUES "
	                "($1, $2, $3) ON CONFLICT (topic, kafka_partition) DO UPDATE SET "
	                "next_offset = EXCLUDED.next_offset, updated_at = now()",
	                3, params, NULL, err);
}

int ingest_commit(struct db *db, const struct ingest_batch *b, struct ts_err *err)
{
	int rc = db_exec(db, "BEGIN", err);

	rc = rc ? rc : fence(db, b, err);
	for (int i = 0; !rc && i < b->nfiles; i++)
		rc = record_file(db, b, &b->files[i], err);
	rc = rc ? rc : move_offset(db, b, err);
	rc = rc ? rc : db_exec(db, "COMMIT", err);
	if (rc)
		db_exec(db, "ROLLBACK", NULL);
	return rc;
}

static int publish_one(struct db *db, const char *lake, const char *rel_final,
                       const char *rel_staged, struct ts_err *err)
{
	char final[INGEST_PATH_MAX], staged[INGEST_PATH_MAX];
	const char *params[] = {rel_final};
	int rc = 0;

	snprintf(final, sizeof(final), "%s/%s", lake, rel_final);
	snprintf(staged, sizeof(staged), "%s/%s", lake, rel_staged);
	if (fs_exists(staged)) {
		rc = fs_mkdirs_for(final, err);
		rc = rc ? rc : fs_rename_durable(staged, final, err);
	} else if (!fs_exists(final)) {
		return ts_err_set(err, TS_ECORRUPT,
		                  "committed file %s is neither staged nor published", final);
	}
	return rc ? rc
	          : db_execp(db, "UPDATE ingest_files SET published = true WHERE path = $1", 1,
	                     params, NULL, err);
}

/* Removes <lake>/_staging/<topic>/p<P>-o* (batches never committed, or
 * emptied by publishing). */
static int clean_staging(const char *lake, const char *topic, int32_t partition, struct ts_err *err)
{
	char dir[INGEST_PATH_MAX], prefix[32], child[INGEST_PATH_MAX + 256];
	struct dirent *e;
	DIR *d;
	int rc = 0;

	snprintf(dir, sizeof(dir), "%s/_staging/%s", lake, topic);
	snprintf(prefix, sizeof(prefix), "p%d-o", (int)partition);
	d = opendir(dir);
	if (!d)
		return 0;
	while (!rc && (e = readdir(d))) {
		if (strncmp(e->d_name, prefix, strlen(prefix)))
			continue;
		snprintf(child, sizeof(child), "%s/%s", dir, e->d_name);
		rc = fs_remove_tree(child, err);
	}
	closedir(d);
	return rc;
}

int ingest_publish(struct db *db, const char *lake, const char *topic, int32_t partition,
                   struct ts_err *err)
{
	char part[16];
	const char *params[] = {topic, part};
	PGresult *r = NULL;
	int rc;

	snprintf(part, sizeof(part), "%d", (int)partition);
	rc = db_execp(db,
	              "SELECT path, staged_path FROM ingest_files WHERE topic = $1 AND "
	              "kafka_partition = $2 AND NOT published ORDER BY first_offset",
	              2, params, &r, err);
	for (int i = 0; !rc && i < PQntuples(r); i++)
		rc = publish_one(db, lake, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), err);
	PQclear(r);
	return rc ? rc : clean_staging(lake, topic, partition, err);
}
