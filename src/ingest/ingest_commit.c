/*
 * See ingest_commit.h. Every statement is parameterised.
 */
#include "base/common.h"
#include "base/failpoint.h"
#include "base/fsutil.h"
#include "base/log.h"
#include "ingest/ingest_commit.h"
#include "ingest/ingest_compact.h"
#include "store/store.h"

#include <dirent.h>
#include <errno.h>

int ingest_register(struct db *db, const char *topic, int32_t partition, struct ts_err *err)
{
	char part[16];
	const char *params[] = {topic, part};

	snprintf(part, sizeof(part), "%d", (int)partition);
	return db_execp(db,
	                "INSERT INTO ingest_offsets (topic, kafka_partition, next_offset) VALUES "
	                "($1, $2, 0) ON CONFLICT (topic, kafka_partition) DO NOTHING",
	                2, params, NULL, err);
}

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

/* The batch's files as array parameters, one item per file in the order
 * of b->files (ingest_committer sorts them by hour, then region): one
 * statement records them all, and one counts them into their hours. One
 * statement per file each took about a third of the transaction's time
 * (docs/ingest.md, "Publishing a batch at once"). */
enum { F_PATH, F_STAGED, F_REGION, F_DAY, F_HOUR, F_ROWS, F_COUNT };

/* The arrays of a batch's files take at most this much (a path is at most
 * INGEST_PATH_MAX, and a batch has at most ingest.max-open-files files). */
#define FILE_ARRAY_MAX (64u << 20)

static int file_arrays(const struct ingest_batch *b, struct dbuf *a, struct ts_err *err)
{
	int rc = 0;

	for (int k = 0; k < F_COUNT; k++)
		dbuf_init(&a[k], FILE_ARRAY_MAX);
	for (int i = 0; !rc && i < b->nfiles; i++) {
		const struct ingest_file *f = &b->files[i];
		char final[INGEST_PATH_MAX], day[16], hour[8], rows[24];

		ingest_file_final_key(f, b->topic, b->partition, b->first, b->last, final,
		                      sizeof(final));
		snprintf(day, sizeof(day), "%04d-%02d-%02d", f->year, f->month, f->day);
		snprintf(hour, sizeof(hour), "%d", f->hour);
		snprintf(rows, sizeof(rows), "%lld", (long long)f->rows);
		rc = db_array_add(&a[F_PATH], final);
		rc = rc ? rc : db_array_add(&a[F_STAGED], f->staged);
		rc = rc ? rc : db_array_add(&a[F_REGION], f->region);
		rc = rc ? rc : db_array_add(&a[F_DAY], day);
		rc = rc ? rc : db_array_add(&a[F_HOUR], hour);
		rc = rc ? rc : db_array_add(&a[F_ROWS], rows);
	}
	for (int k = 0; !rc && k < F_COUNT; k++)
		rc = db_array_end(&a[k]);
	return rc ? ts_err_set(err, rc, "%d files: their names take too much memory", b->nfiles)
	          : 0;
}

static int record_files(struct db *db, const struct ingest_batch *b, const struct dbuf *a,
                        struct ts_err *err)
{
	char part[16], first[24], last[24];
	const char *params[] = {dbuf_str(&a[F_PATH]),
	                        dbuf_str(&a[F_STAGED]),
	                        b->topic,
	                        part,
	                        first,
	                        last,
	                        dbuf_str(&a[F_REGION]),
	                        dbuf_str(&a[F_DAY]),
	                        dbuf_str(&a[F_HOUR]),
	                        dbuf_str(&a[F_ROWS])};

	snprintf(part, sizeof(part), "%d", (int)b->partition);
	snprintf(first, sizeof(first), "%lld", (long long)b->first);
	snprintf(last, sizeof(last), "%lld", (long long)b->last);
	return db_execp(db,
	                "INSERT INTO ingest_files (path, staged_path, topic, kafka_partition, "
	                "first_offset, last_offset, region, day, hour, rows) SELECT f.path, "
	                "f.staged, $3, $4, $5, $6, f.region, f.day, f.hour, f.rows FROM "
	                "unnest($1::text[], $2::text[], $7::text[], $8::date[], $9::int[], "
	                "$10::bigint[]) AS f(path, staged, region, day, hour, rows)",
	                10, params, NULL, err);
}

/* Also advances the partition's watermark (never backwards). */
static int move_offset(struct db *db, const struct ingest_batch *b, struct ts_err *err)
{
	char part[16], next[24], wm[32];
	const char *params[] = {b->topic, part, next, b->max_ts_us ? wm : NULL};

	snprintf(part, sizeof(part), "%d", (int)b->partition);
	snprintf(next, sizeof(next), "%lld", (long long)b->last + 1);
	snprintf(wm, sizeof(wm), "%.6f", (double)b->max_ts_us / 1e6);
	return db_execp(
	    db,
	    "INSERT INTO ingest_offsets (topic, kafka_partition, next_offset, watermark) "
	    "VALUES ($1, $2, $3, to_timestamp($4::double precision)) "
	    "ON CONFLICT (topic, kafka_partition) DO UPDATE SET "
	    "next_offset = EXCLUDED.next_offset, updated_at = now(), watermark = "
	    "GREATEST(ingest_offsets.watermark, EXCLUDED.watermark)",
	    4, params, NULL, err);
}

/* Counts each file's rows into its hour (a batch has one file per hour and
 * region), in the files' order: every process upserts lake_hours rows in
 * one order (ingest_committer.c, file_order). Rows landing in a closed hour
 * are late; closed_at is not changed here, so RETURNING it tells whether
 * the hour was already closed when these rows arrived. */
static int count_hours(struct db *db, const struct dbuf *a, int64_t *late, struct ts_err *err)
{
	const char *params[] = {dbuf_str(&a[F_REGION]), dbuf_str(&a[F_DAY]), dbuf_str(&a[F_HOUR]),
	                        dbuf_str(&a[F_ROWS])};
	PGresult *r = NULL;
	int rc;

	rc =
	    db_execp(db,
	             "WITH f AS (SELECT * FROM unnest($1::text[], $2::date[], $3::int[], "
	             "$4::bigint[]) WITH ORDINALITY AS f(region, day, hour, rows, n)), "
	             "up AS (INSERT INTO lake_hours (region, day, hour, rows, files) SELECT "
	             "region, day, hour, rows, 1 FROM f ORDER BY n ON CONFLICT (region, day, hour) "
	             "DO UPDATE SET rows = lake_hours.rows + EXCLUDED.rows, files = "
	             "lake_hours.files + 1, late_rows = lake_hours.late_rows + CASE WHEN "
	             "lake_hours.closed_at IS NULL THEN 0 ELSE EXCLUDED.rows END, "
	             "needs_recompute = lake_hours.needs_recompute OR lake_hours.closed_at IS "
	             "NOT NULL, updated_at = now() RETURNING region, day, hour, closed_at IS NOT "
	             "NULL AS closed) "
	             "SELECT coalesce(sum(f.rows), 0) FROM up JOIN f USING (region, day, hour) "
	             "WHERE up.closed",
	             4, params, &r, err);
	if (!rc)
		*late += strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return rc;
}

/* Closes the hours every partition's watermark has passed by the lateness.
 * A partition assigned but never given a record has no watermark yet and
 * holds every hour open (ingest_register). */
static int close_hours(struct db *db, const char *topic, int64_t lateness_s, struct ts_err *err)
{
	char lateness[24];
	const char *params[] = {topic, lateness};

	snprintf(lateness, sizeof(lateness), "%lld", (long long)lateness_s);
	return db_execp(db,
	                "UPDATE lake_hours SET closed_at = now(), updated_at = now() "
	                "WHERE closed_at IS NULL AND ((day + make_interval(hours => hour + 1)) "
	                "AT TIME ZONE 'UTC') + make_interval(secs => $2::double precision) <= "
	                "(SELECT CASE WHEN count(*) = count(watermark) THEN min(watermark) END "
	                "FROM ingest_offsets WHERE topic = $1)",
	                2, params, NULL, err);
}

/* The ledger's dead letters (docs/ledger.md): every offset of [first, last]
 * became a row or a dead letter (the producer is not transactional, so the
 * topic has no control records between them), so the batch's dead letters
 * are its offsets minus its rows — counted without touching the consumer. */
static int count_dead(struct db *db, const struct ingest_batch *b, struct ts_err *err)
{
	char part[16], first[24], last[24], dead[24];
	const char *params[] = {b->topic, part, first, last, dead};
	int64_t rows = 0;

	for (int i = 0; i < b->nfiles; i++)
		rows += b->files[i].rows;
	if (b->last - b->first + 1 <= rows)
		return 0;
	snprintf(part, sizeof(part), "%d", (int)b->partition);
	snprintf(first, sizeof(first), "%lld", (long long)b->first);
	snprintf(last, sizeof(last), "%lld", (long long)b->last);
	snprintf(dead, sizeof(dead), "%lld", (long long)(b->last - b->first + 1 - rows));
	return db_execp(db,
	                "INSERT INTO ingest_dead_letters (topic, kafka_partition, first_offset, "
	                "last_offset, records) VALUES ($1, $2, $3, $4, $5)",
	                5, params, NULL, err);
}

/* The transaction of ingest_commit; a is file_arrays'. */
static int commit_tx(struct db *db, struct ingest_batch *b, const struct dbuf *a,
                     struct ts_err *err)
{
	int rc = db_exec(db, "BEGIN", err);

	rc = rc ? rc : fence(db, b, err);
	if (!rc && b->nfiles) {
		rc = record_files(db, b, a, err);
		rc = rc ? rc : count_hours(db, a, &b->late_rows, err);
	}
	rc = rc ? rc : count_dead(db, b, err);
	rc = rc ? rc : move_offset(db, b, err);
	rc = rc ? rc : close_hours(db, b->topic, b->lateness_s, err);
	rc = rc ? rc : db_exec(db, "COMMIT", err);
	if (rc)
		db_exec(db, "ROLLBACK", NULL);
	return rc;
}

int ingest_commit(struct db *db, struct ingest_batch *b, struct ts_err *err)
{
	struct dbuf arrays[F_COUNT];
	int rc = file_arrays(b, arrays, err);

	rc = rc ? rc : commit_tx(db, b, arrays, err);
	for (int k = 0; k < F_COUNT; k++)
		dbuf_release(&arrays[k]);
	return rc;
}

int ingest_idle_advance(struct db *db, const char *topic, int32_t partition, int64_t idle_s,
                        int64_t lateness_s, struct ts_err *err)
{
	char part[16], idle[24];
	const char *params[] = {topic, part, idle};
	int rc = db_exec(db, "BEGIN", err);

	snprintf(part, sizeof(part), "%d", (int)partition);
	snprintf(idle, sizeof(idle), "%lld", (long long)idle_s);
	rc = rc ? rc
	        : db_execp(db,
	                   "UPDATE ingest_offsets SET watermark = greatest(coalesce(watermark, "
	                   "'-infinity'), now() - make_interval(secs => $3::double precision)), "
	                   "updated_at = now() WHERE topic = $1 AND kafka_partition = $2",
	                   3, params, NULL, err);
	rc = rc ? rc : close_hours(db, topic, lateness_s, err);
	rc = rc ? rc : db_exec(db, "COMMIT", err);
	if (rc)
		db_exec(db, "ROLLBACK", NULL);
	return rc;
}

/* The largest staged object an S3 publish copies through memory. */
#define PUBLISH_MAX (2u << 30)

/* Renames a committed file from staging into raw/; the caller makes the
 * rename durable (publish_files). A committed file whose staged and
 * published copies are both gone was renamed by an ingest that died before
 * marking it published, then merged by a compaction of its hour
 * (ingest_compact_merged_into); the flows check that the merge holds its
 * rows. */
static int move_local(const char *root, const char *final_key, const char *staged_key,
                      struct ts_err *err)
{
	char final[INGEST_PATH_MAX * 2], staged[INGEST_PATH_MAX * 2], hour[INGEST_PATH_MAX * 2];
	int rc;

	snprintf(final, sizeof(final), "%s/%s", root, final_key);
	snprintf(staged, sizeof(staged), "%s/%s", root, staged_key);
	if (fs_exists(staged)) {
		rc = fs_mkdirs_for(final, err);
		if (!rc && rename(staged, final))
			rc = ts_err_set(err, TS_EIO, "rename %s -> %s: %s", staged, final,
			                strerror(errno));
		return rc;
	}
	snprintf(hour, sizeof(hour), "%.*s", (int)(strrchr(final, '/') - final), final);
	return fs_exists(final) || ingest_compact_merged_into(hour)
	           ? 0
	           : ts_err_set(err, TS_ECORRUPT,
	                        "committed file %s is neither staged nor published", final);
}

static int move_object(struct store *s, const char *final_key, const char *staged_key,
                       struct ts_err *err)
{
	int rc = store_move(s, staged_key, final_key, PUBLISH_MAX, err);

	return rc == TS_ENOTFOUND
	           ? ts_err_set(err, TS_ECORRUPT,
	                        "committed object %s is neither staged nor published", final_key)
	           : rc;
}

/* Files published under one set of locks: each of a batch's hours is one
 * advisory lock in PostgreSQL's shared lock table, which holds a few
 * thousand (64 per connection by default), and ingest.max-open-files
 * allows 10,000 files a batch. 64 is that setting's default. */
#define PUBLISH_CHUNK 64

/* The text[] parameters of publish_files: PUBLISH_CHUNK paths and hours. */
#define PUBLISH_ARRAY_MAX (1u << 20)

/*
 * Publishes the committed files of rows [from, from + n) of r (path,
 * staged_path) together: under the locks of all their hours (which keep
 * compaction from swapping a folder under a rename, or from taking a new
 * file for a leftover: ingest_compact.h), every file is renamed, then every
 * hour folder synced, and only then are all marked published, in one
 * statement. One file at a time, the locks, the folder syncs and the marks
 * (each a commit, so a WAL flush) took about 1.5 ms a file, a fifth of what
 * the committer spends on a batch (docs/ingest.md, "Publishing a batch at
 * once").
 */
static int publish_files(struct db *db, const struct ingest_lake *lake, PGresult *r, int from,
                         int n, struct ts_err *err)
{
	struct dbuf dirs, paths;
	const char *params[1];
	int rc = 0;

	dbuf_init(&dirs, PUBLISH_ARRAY_MAX);
	dbuf_init(&paths, PUBLISH_ARRAY_MAX);
	for (int i = from; !rc && i < from + n; i++) {
		const char *path = PQgetvalue(r, i, 0), *slash = strrchr(path, '/');
		char dir[INGEST_PATH_MAX];

		snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) : 0, path);
		rc = db_array_add(&dirs, dir);
		rc = rc ? rc : db_array_add(&paths, path);
	}
	rc = rc ? rc : db_array_end(&dirs);
	rc = rc ? rc : db_array_end(&paths);
	if (rc)
		rc = ts_err_set(err, rc, "%d files to publish: names too long", n);
	if (!rc) {
		rc = ingest_hours_lock(db, dbuf_str(&dirs), 1, err);
		for (int i = from; !rc && i < from + n; i++) {
			const char *final = PQgetvalue(r, i, 0), *staged = PQgetvalue(r, i, 1);

			rc = lake->root ? move_local(lake->root, final, staged, err)
			                : move_object(lake->store, final, staged, err);
			if (!rc)
				failpoint("ingest.renamed");
		}
		for (int i = from; !rc && lake->root && i < from + n; i++) {
			char final[INGEST_PATH_MAX * 2];

			snprintf(final, sizeof(final), "%s/%s", lake->root, PQgetvalue(r, i, 0));
			rc = fs_sync_dir_of(final, err);
		}
		if (!rc)
			failpoint("ingest.synced");
		/* Even when the lock statement failed: locks it took before
		 * failing would outlive it (unlocking a key not held only
		 * warns). */
		ingest_hours_lock(db, dbuf_str(&dirs), 0, NULL);
	}
	params[0] = dbuf_str(&paths);
	rc = rc ? rc
	        : db_execp(db,
	                   "UPDATE ingest_files SET published = true WHERE path = ANY($1::text[])",
	                   1, params, NULL, err);
	dbuf_release(&dirs);
	dbuf_release(&paths);
	return rc;
}

static int discard_local(const char *root, const char *prefix, struct ts_err *err)
{
	char dir[INGEST_PATH_MAX * 2], child[INGEST_PATH_MAX * 3];
	const char *slash = strrchr(prefix, '/');
	const char *base = slash ? slash + 1 : prefix;
	struct dirent *e;
	DIR *d;
	int rc = 0;

	snprintf(dir, sizeof(dir), "%s/%.*s", root, slash ? (int)(slash - prefix) : 0, prefix);
	d = opendir(dir);
	if (!d)
		return 0;
	while (!rc && (e = readdir(d))) {
		if (strncmp(e->d_name, base, strlen(base)) || !strcmp(e->d_name, ".") ||
		    !strcmp(e->d_name, ".."))
			continue;
		snprintf(child, sizeof(child), "%s/%s", dir, e->d_name);
		rc = fs_remove_tree(child, err);
	}
	closedir(d);
	return rc;
}

static int delete_entry(const struct store_entry *e, void *arg)
{
	void **a = arg;

	return store_delete(a[0], e->key, a[1]);
}

int ingest_discard_staging(const struct ingest_lake *lake, const char *prefix, struct ts_err *err)
{
	void *args[2] = {lake->store, err};

	if (lake->root)
		return discard_local(lake->root, prefix, err);
	return store_list(lake->store, prefix, delete_entry, args, err);
}

int ingest_discard_batch(const struct ingest_lake *lake, const char *batch_dir, struct ts_err *err)
{
	char path[INGEST_PATH_MAX * 2];

	if (lake->root) {
		snprintf(path, sizeof(path), "%s/%s", lake->root, batch_dir);
		return fs_remove_tree(path, err);
	}
	/* The slash: p3-o100's objects, not p3-o1000's. */
	snprintf(path, sizeof(path), "%s/", batch_dir);
	return ingest_discard_staging(lake, path, err);
}

int ingest_publish(struct db *db, const struct ingest_lake *lake, const char *topic,
                   int32_t partition, const char *batch_dir, struct ts_err *err)
{
	char part[16], prefix[INGEST_PATH_MAX];
	const char *params[] = {topic, part};
	PGresult *r = NULL;
	int rc;

	snprintf(part, sizeof(part), "%d", (int)partition);
	rc = db_execp(db,
	              "SELECT path, staged_path FROM ingest_files WHERE topic = $1 AND "
	              "kafka_partition = $2 AND NOT published ORDER BY first_offset",
	              2, params, &r, err);
	for (int i = 0, n = rc ? 0 : PQntuples(r); !rc && i < n; i += PUBLISH_CHUNK)
		rc = publish_files(db, lake, r, i, n - i < PUBLISH_CHUNK ? n - i : PUBLISH_CHUNK,
		                   err);
	PQclear(r);
	failpoint("ingest.published");
	if (rc)
		return rc;
	if (batch_dir)
		return ingest_discard_batch(lake, batch_dir, err);
	snprintf(prefix, sizeof(prefix), "_staging/%s/p%d-o", topic, (int)partition);
	return ingest_discard_staging(lake, prefix, err);
}
