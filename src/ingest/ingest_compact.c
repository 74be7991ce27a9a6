/*
 * See ingest_compact.h. The merge reads one row group of one input at a
 * time, column by column, into memory (bounded by the row-group size ingest
 * writes), then writes its rows; strings are copied into one arena per row
 * group because decoded batches only live until the next read.
 */
#include "base/common.h"
#include "base/dbuf.h"
#include "base/failpoint.h"
#include "base/fsutil.h"
#include "base/log.h"
#include "ingest/ingest_compact.h"
#include "ingest/ingest_file.h"
#include "parquet/parquet_chunk.h"
#include "parquet/parquet_compress.h"
#include "parquet/parquet_reader.h"
#include "parquet/parquet_writer.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#define MAX_INPUTS   4096
#define MAX_RG_ROWS  (4u << 20)
#define ARENA_MAX    (1u << 30)
#define NAME_MAX_LEN 256

int ingest_hour_lock(struct db *db, const char *dir, int lock, struct ts_err *err)
{
	const char *params[] = {dir};

	return db_execp(db,
	                lock ? "SELECT pg_advisory_lock(hashtext('topsongs.hour:' || $1))"
	                     : "SELECT pg_advisory_unlock(hashtext('topsongs.hour:' || $1))",
	                1, params, NULL, err);
}

/* One column of one row group, in memory. */
struct colbuf {
	int type;
	size_t n;
	uint8_t *valid;
	void *values;      /* int32_t, int64_t or double per row */
	uint64_t *str_off; /* BYTE_ARRAY: offset (<< 32 | length) into arena */
};

static size_t width(int type)
{
	return type == PARQUET_INT32 ? 4 : 8;
}

static int read_column(struct parquet_reader *r, int rg, int col, struct colbuf *cb,
                       struct dbuf *arena, struct ts_err *err)
{
	struct parquet_chunk *c = NULL;
	struct parquet_batch b;
	size_t at = 0;
	int rc = parquet_chunk_open(r, rg, col, &c, err);

	while (!rc && !(rc = parquet_chunk_next(c, PARQUET_BATCH_MAX, false, &b, err)) && b.n) {
		if (at + b.n > cb->n) {
			rc = ts_err_set(err, TS_ECORRUPT, "%s: more values than rows",
			                parquet_reader_name(r));
			break;
		}
		for (size_t i = 0; i < b.n; i++)
			cb->valid[at + i] = b.valid ? b.valid[i] : 1;
		if (cb->type != PARQUET_BYTE_ARRAY) {
			memcpy((char *)cb->values + at * width(cb->type), b.values,
			       b.n * width(cb->type));
		} else {
			const struct parquet_bytes *v = b.values;

			for (size_t i = 0; !rc && i < b.n; i++) {
				cb->str_off[at + i] = (uint64_t)arena->len << 32 | v[i].len;
				rc = dbuf_add(arena, v[i].ptr, v[i].len);
			}
		}
		at += b.n;
	}
	parquet_chunk_free(c);
	if (!rc && at != cb->n)
		rc = ts_err_set(err, TS_ECORRUPT, "%s: fewer values than rows",
		                parquet_reader_name(r));
	return rc;
}

static int put_value(struct parquet_writer *w, int col, const struct colbuf *cb, size_t i,
                     const struct dbuf *arena)
{
	if (!cb->valid[i])
		return parquet_writer_put_null(w, col);
	switch (cb->type) {
	case PARQUET_INT32:
		return parquet_writer_put_i32(w, col, ((const int32_t *)cb->values)[i]);
	case PARQUET_INT64:
		return parquet_writer_put_i64(w, col, ((const int64_t *)cb->values)[i]);
	case PARQUET_DOUBLE:
		return parquet_writer_put_double(w, col, ((const double *)cb->values)[i]);
	default:
		return parquet_writer_put_bytes(w, col, arena->buf + (cb->str_off[i] >> 32),
		                                (size_t)(cb->str_off[i] & 0xffffffffu));
	}
}

static void colbufs_free(struct colbuf *cbs, int n)
{
	for (int c = 0; c < n; c++) {
		free(cbs[c].valid);
		free(cbs[c].values);
		free(cbs[c].str_off);
	}
}

/* Maps the raw schema onto the input's columns; -1 where absent. */
static int map_columns(struct parquet_reader *r, const struct parquet_writer_column *schema,
                       int ncols, int *map, struct ts_err *err)
{
	const struct parquet_footer *f = parquet_reader_footer(r);

	for (int c = 0; c < ncols; c++) {
		map[c] = parquet_reader_column(r, schema[c].name);
		if (map[c] < 0 || f->cols[map[c]].type != schema[c].type)
			return ts_err_set(err, TS_ECORRUPT,
			                  "%s: column %s missing or of another type",
			                  parquet_reader_name(r), schema[c].name);
	}
	return 0;
}

static int copy_row_group(struct parquet_reader *r, int rg, const int *map,
                          const struct parquet_writer_column *schema, int ncols,
                          struct parquet_writer *w, struct ts_err *err)
{
	const struct parquet_footer *f = parquet_reader_footer(r);
	int64_t rows = f->rgs[rg].num_rows;
	struct colbuf cbs[32] = {{0}};
	struct dbuf arena;
	int rc = 0;

	if (rows < 0 || rows > MAX_RG_ROWS || ncols > 32)
		return ts_err_set(err, TS_ECORRUPT, "%s: row group of %lld rows",
		                  parquet_reader_name(r), (long long)rows);
	dbuf_init(&arena, ARENA_MAX);
	for (int c = 0; !rc && c < ncols; c++) {
		cbs[c].type = schema[c].type;
		cbs[c].n = (size_t)rows;
		cbs[c].valid = malloc((size_t)rows + 1);
		cbs[c].values = malloc((size_t)rows * 8 + 1);
		cbs[c].str_off = malloc((size_t)rows * 8 + 1);
		rc = cbs[c].valid && cbs[c].values && cbs[c].str_off
		         ? read_column(r, rg, map[c], &cbs[c], &arena, err)
		         : ts_err_set(err, TS_ENOMEM, "out of memory");
	}
	for (size_t i = 0; !rc && i < (size_t)rows; i++) {
		for (int c = 0; !rc && c < ncols; c++)
			rc = put_value(w, c, &cbs[c], i, &arena);
		if (rc)
			ts_err_set(err, rc, "cannot add a row while compacting");
		rc = rc ? rc : parquet_writer_end_row(w, err);
	}
	colbufs_free(cbs, ncols);
	dbuf_release(&arena);
	return rc;
}

static int copy_file(const char *path, const struct parquet_writer_column *schema, int ncols,
                     struct parquet_writer *w, int64_t *rows, struct ts_err *err)
{
	struct parquet_reader *r = NULL;
	int map[32], rc = parquet_reader_open_file(path, &r, err);

	rc = rc ? rc : map_columns(r, schema, ncols, map, err);
	for (int rg = 0; !rc && rg < parquet_reader_footer(r)->nrg; rg++) {
		rc = copy_row_group(r, rg, map, schema, ncols, w, err);
		*rows += rc ? 0 : parquet_reader_footer(r)->rgs[rg].num_rows;
	}
	parquet_reader_free(r);
	return rc;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The .parquet files of a folder, sorted; *n = 0 when it does not exist. */
static int list_files(const char *dir, char ***out, int *n, struct ts_err *err)
{
	struct dirent *e;
	char **names = NULL;
	DIR *d = opendir(dir);

	*n = 0;
	*out = NULL;
	if (!d)
		return 0;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);

		if (len < 9 || len > NAME_MAX_LEN || strcmp(e->d_name + len - 8, ".parquet") ||
		    e->d_name[0] == '.')
			continue;
		if (*n == MAX_INPUTS ||
		    !(names = realloc(*out, sizeof(char *) * (size_t)(*n + 1)))) {
			closedir(d);
			return ts_err_set(err, TS_ETOOBIG, "%s: too many files to compact", dir);
		}
		*out = names;
		names[(*n)++] = strdup(e->d_name);
	}
	closedir(d);
	if (*n)
		qsort(*out, (size_t)*n, sizeof(char *), by_name);
	return 0;
}

static void free_names(char **names, int n)
{
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static int fsync_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY), rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* Writes the merge of names (in hour) as staged/out_name. */
static int merge(const char *hour, char **names, int n, const char *staged, const char *out_name,
                 int64_t *rows, struct ts_err *err)
{
	struct parquet_writer *w = NULL;
	struct parquet_writer_opts o;
	char path[4096];
	int ncols, rc;
	const struct parquet_writer_column *schema = ingest_raw_schema(&ncols);

	parquet_writer_opts_init(&o);
	o.codec = PARQUET_ZSTD;
	o.row_group_rows = 1 << 20;
	snprintf(path, sizeof(path), "%s/%s", staged, out_name);
	rc = parquet_writer_new_file(path, schema, ncols, &o, &w, err);
	for (int i = 0; !rc && i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", hour, names[i]);
		rc = copy_file(path, schema, ncols, w, rows, err);
	}
	rc = rc ? rc : parquet_writer_close(w, err);
	parquet_writer_free(w);
	return rc;
}

/* The atomic step: the staged folder and the hour folder trade places. */
static int swap(const char *staged, const char *hour, struct ts_err *err)
{
	char parent[4096];

	if (renameat2(AT_FDCWD, staged, AT_FDCWD, hour, RENAME_EXCHANGE))
		return ts_err_set(err, TS_EIO, "swap %s <-> %s: %s", staged, hour, strerror(errno));
	snprintf(parent, sizeof(parent), "%s/..", hour);
	fsync_path(parent);
	snprintf(parent, sizeof(parent), "%s/..", staged);
	fsync_path(parent);
	return 0;
}

static int record(struct db *db, const char *dir, const char *new_key, const char *region,
                  const char *day, const char *hour, int files, struct ts_err *err)
{
	char nfiles[16];
	const char *p1[] = {new_key, dir};
	const char *p2[] = {region, day, hour, nfiles};
	int rc;

	snprintf(nfiles, sizeof(nfiles), "%d", files);
	rc = db_execp(db,
	              "UPDATE ingest_files SET compacted_into = $1 WHERE compacted_into IS "
	              "NULL AND path LIKE $2 || '/%' AND path <> $1",
	              2, p1, NULL, err);

	return rc ? rc
	          : db_execp(
	                db,
	                "UPDATE lake_hours SET files = $4, compacted_at = now() WHERE region = "
	                "$1 AND day = $2 AND hour = $3",
	                4, p2, NULL, err);
}

static int compact_locked(struct db *db, const char *root, const char *dir, const char *region,
                          const char *day, const char *hour_s, int *files_in, int64_t *rows,
                          struct ts_err *err)
{
	char hour[4096], staged[4096], out_name[NAME_MAX_LEN + 64], new_key[4096];
	char **names = NULL;
	int n = 0, rc;

	snprintf(hour, sizeof(hour), "%s/%s", root, dir);
	snprintf(staged, sizeof(staged), "%s/_staging/compact/%s-%s-%s", root, region, day, hour_s);
	/* Leftovers of a compaction that crashed, before or after its swap. */
	rc = fs_remove_tree(staged, err);
	rc = rc ? rc : list_files(hour, &names, &n, err);
	*files_in = n;
	if (!rc && n < 2) {
		/* Nothing to merge (or a crash came between the swap and the
		 * bookkeeping): just record the state, so the hour is not picked
		 * again. */
		snprintf(new_key, sizeof(new_key), "%s/%s", dir, n ? names[0] : "");
		rc = record(db, dir, new_key, region, day, hour_s, n, err);
		goto out;
	}
	if (rc)
		goto out;
	snprintf(out_name, sizeof(out_name), "compact-n%d-%.*s.parquet", n,
	         (int)strlen(names[0]) - 8, names[0]);
	snprintf(new_key, sizeof(new_key), "%s/%s", dir, out_name);
	rc = fs_mkdirs(staged, err);
	rc = rc ? rc : merge(hour, names, n, staged, out_name, rows, err);
	if (!rc)
		failpoint("compact.merged");
	rc = rc ? rc : swap(staged, hour, err);
	if (!rc)
		failpoint("compact.swapped");
	rc = rc ? rc : fs_remove_tree(staged, err); /* the old files, now */

	rc = rc ? rc : record(db, dir, new_key, region, day, hour_s, 1, err);
	if (!rc)
		log_info("compacted", "dir=%s files=%d rows=%lld", dir, n, (long long)*rows);
out:
	free_names(names, n);
	return rc;
}

int ingest_compact_dir(struct db *db, const char *root, const char *dir, int *files_in,
                       int64_t *rows, struct ts_err *err)
{
	char region[16], day[16], hour[8];
	int rc;

	*rows = 0;
	if (sscanf(dir, "raw/region=%15[^/]/date=%15[^/]/hour=%7s", region, day, hour) != 3)
		return ts_err_set(err, TS_EINVAL, "%s is not an hour folder of raw/", dir);
	rc = ingest_hour_lock(db, dir, 1, err);
	if (rc)
		return rc;
	rc = compact_locked(db, root, dir, region, day, hour, files_in, rows, err);
	ingest_hour_lock(db, dir, 0, NULL);
	return rc;
}

int ingest_compact_closed(struct db *db, const char *root, int max_hours, int *hours,
                          struct ts_err *err)
{
	char limit[16], dir[256];
	const char *params[] = {limit};
	PGresult *r = NULL;
	int rc;

	*hours = 0;
	snprintf(limit, sizeof(limit), "%d", max_hours);
	rc = db_execp(db,
	              "SELECT region, day::text, lpad(hour::text, 2, '0') FROM lake_hours WHERE "
	              "closed_at IS NOT NULL AND files > 1 AND (compacted_at IS NULL OR "
	              "updated_at > compacted_at) ORDER BY day, hour, region LIMIT $1",
	              1, params, &r, err);
	for (int i = 0; !rc && i < PQntuples(r); i++) {
		int files = 0;
		int64_t rows = 0;

		snprintf(dir, sizeof(dir), "raw/region=%s/date=%s/hour=%s", PQgetvalue(r, i, 0),
		         PQgetvalue(r, i, 1), PQgetvalue(r, i, 2));
		rc = ingest_compact_dir(db, root, dir, &files, &rows, err);
		*hours += !rc && files > 1;
	}
	PQclear(r);
	return rc;
}
