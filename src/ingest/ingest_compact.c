/*
 * See ingest_compact.h. The merge reads one row group of one input at a
 * time, column by column, into memory (bounded by the row-group size ingest
 * writes), then hands each column to the writer in one call; strings are
 * copied into one arena per row group because decoded batches only live
 * until the next read.
 */
#include "base/common.h"
#include "base/dbuf.h"
#include "base/failpoint.h"
#include "base/fsutil.h"
#include "base/log.h"
#include "base/text.h"
#include "base/timeutil.h"
#include "ingest/ingest_compact.h"
#include "parquet/parquet_chunk.h"
#include "parquet/parquet_compress.h"
#include "parquet/parquet_reader.h"
#include "parquet/parquet_writer.h"
#include "store/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_INPUTS   4096
#define MAX_RG_ROWS  (4u << 20)
#define MAX_COLS     32
#define ARENA_MAX    (1u << 30)
#define NAME_MAX_LEN 256
/* The largest input object read into memory, and the merged object. */
#define OBJECT_MAX (1ull << 30)
#define MERGED_MAX (2ull << 30)

/* The keys are taken in ascending order, so that processes that each lock
 * several hours at once (ingest_publish) cannot deadlock: the aggregate
 * calls pg_advisory_lock on the sorted subquery's rows as they come, which
 * is how PostgreSQL runs this plan, though SQL does not promise it.
 * DISTINCT also merges two folders whose hashes collide into one lock. */
int ingest_hours_lock(struct db *db, const char *dirs, int lock, struct ts_err *err)
{
	const char *params[] = {dirs};

	return db_execp(db,
	                lock ? "SELECT count(pg_advisory_lock(k)) FROM (SELECT DISTINCT "
	                       "hashtext('topsongs.hour:' || d) AS k FROM unnest($1::text[]) AS d "
	                       "ORDER BY k) AS s"
	                     : "SELECT count(pg_advisory_unlock(k)) FROM (SELECT DISTINCT "
	                       "hashtext('topsongs.hour:' || d) AS k FROM unnest($1::text[]) AS d) "
	                       "AS s",
	                1, params, NULL, err);
}

int ingest_hour_lock(struct db *db, const char *dir, int lock, struct ts_err *err)
{
	struct dbuf dirs;
	int rc;

	dbuf_init(&dirs, strlen(dir) * 2 + 8);
	rc = db_array_add(&dirs, dir);
	rc = rc ? rc : db_array_end(&dirs);
	rc = rc ? ts_err_set(err, rc, "out of memory")
	        : ingest_hours_lock(db, dbuf_str(&dirs), lock, err);
	dbuf_release(&dirs);
	return rc;
}

/* One hour folder: "raw/region=EU/date=2026-11-25/hour=13" and its parts. */
struct hour {
	const char *dir;
	char region[16], day[16], hour[8];
};

/* ---- copying rows ------------------------------------------------------ */

/* One column of one row group, in memory: values per row, or for strings
 * (offset << 32 | length) into the arena until every value is read. */
struct colbuf {
	int type;
	size_t n;
	uint8_t *valid;
	void *values;
};

static size_t width(int type)
{
	return type == PARQUET_INT32 ? 4 : 8;
}

static int add_batch(struct colbuf *cb, size_t at, const struct parquet_batch *b,
                     struct dbuf *arena)
{
	int rc = 0;

	for (size_t i = 0; i < b->n; i++)
		cb->valid[at + i] = b->valid ? b->valid[i] : 1;
	if (cb->type != PARQUET_BYTE_ARRAY) {
		memcpy((char *)cb->values + at * width(cb->type), b->values,
		       b->n * width(cb->type));
		return 0;
	}
	for (size_t i = 0; !rc && i < b->n; i++) {
		const struct parquet_bytes *v = (const struct parquet_bytes *)b->values + i;

		((uint64_t *)cb->values)[at + i] = (uint64_t)arena->len << 32 | v->len;
		rc = dbuf_add(arena, v->ptr, v->len);
	}
	return rc;
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
		if (add_batch(cb, at, &b, arena))
			rc = ts_err_set(err, TS_ETOOBIG, "%s: row group too large to compact",
			                parquet_reader_name(r));
		at += b.n;
	}
	parquet_chunk_free(c);
	if (!rc && at != cb->n)
		rc = ts_err_set(err, TS_ECORRUPT, "%s: fewer values than rows",
		                parquet_reader_name(r));
	return rc;
}

/* Hands one column to the writer; strings become parquet_bytes now that the
 * arena no longer moves. */
static int put_column(struct parquet_writer *w, int col, const struct colbuf *cb,
                      const struct dbuf *arena, struct ts_err *err)
{
	struct parquet_bytes *bytes = NULL;
	const void *values = cb->values;
	int rc;

	if (cb->type == PARQUET_BYTE_ARRAY) {
		bytes = malloc(cb->n * sizeof(*bytes) + 1);
		if (!bytes)
			return ts_err_set(err, TS_ENOMEM, "out of memory");
		for (size_t i = 0; i < cb->n; i++) {
			uint64_t o = ((const uint64_t *)cb->values)[i];

			bytes[i].ptr = (const uint8_t *)arena->buf + (o >> 32);
			bytes[i].len = (uint32_t)(o & 0xffffffffu);
		}
		values = bytes;
	}
	rc = parquet_writer_put_column(w, col, values, cb->valid, cb->n);
	free(bytes);
	return rc ? ts_err_set(err, rc, "cannot add column %d while compacting", col) : 0;
}

static int copy_row_group(struct parquet_reader *r, int rg, const int *map,
                          const struct parquet_writer_column *schema, int ncols,
                          struct parquet_writer *w, struct ts_err *err)
{
	int64_t rows = parquet_reader_footer(r)->rgs[rg].num_rows;
	struct colbuf cbs[MAX_COLS] = {{0}};
	struct dbuf arena;
	int rc = 0;

	if (rows < 0 || rows > MAX_RG_ROWS)
		return ts_err_set(err, TS_ECORRUPT, "%s: row group of %lld rows",
		                  parquet_reader_name(r), (long long)rows);
	dbuf_init(&arena, ARENA_MAX);
	for (int c = 0; !rc && c < ncols; c++) {
		cbs[c].type = schema[c].type;
		cbs[c].n = (size_t)rows;
		cbs[c].valid = malloc((size_t)rows + 1);
		/* Strings keep an 8-byte arena reference per row. */
		cbs[c].values = malloc((size_t)rows * width(cbs[c].type) + 1);
		rc = cbs[c].valid && cbs[c].values
		         ? read_column(r, rg, map[c], &cbs[c], &arena, err)
		         : ts_err_set(err, TS_ENOMEM, "out of memory");
	}
	for (int c = 0; !rc && c < ncols; c++)
		rc = put_column(w, c, &cbs[c], &arena, err);
	rc = rc ? rc : parquet_writer_end_rows(w, (size_t)rows, err);
	for (int c = 0; c < ncols; c++) {
		free(cbs[c].valid);
		free(cbs[c].values);
	}
	dbuf_release(&arena);
	return rc;
}

/* Maps the raw schema onto the input's columns. */
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

/* Appends every row of r to w; takes r. */
static int copy_rows(struct parquet_reader *r, struct parquet_writer *w, int64_t *rows,
                     struct ts_err *err)
{
	int ncols, map[MAX_COLS], rc;
	const struct parquet_writer_column *schema = ingest_raw_schema(&ncols);

	if (ncols > MAX_COLS)
		BUG("the raw schema has %d columns", ncols);
	rc = map_columns(r, schema, ncols, map, err);
	for (int rg = 0; !rc && rg < parquet_reader_footer(r)->nrg; rg++) {
		rc = copy_row_group(r, rg, map, schema, ncols, w, err);
		*rows += rc ? 0 : parquet_reader_footer(r)->rgs[rg].num_rows;
	}
	parquet_reader_free(r);
	return rc;
}

static void writer_opts(struct parquet_writer_opts *o)
{
	parquet_writer_opts_init(o);
	o->codec = PARQUET_ZSTD;
	o->row_group_rows = 1 << 20;
	o->mem_max = MERGED_MAX;
}

/* ---- names ------------------------------------------------------------- */

struct names {
	char **v;
	uint64_t *size; /* bytes of each file, where known (else 0) */
	int n;
};

static int names_add_sized(struct names *ns, const char *s, size_t len, uint64_t size,
                           struct ts_err *err)
{
	char **v;
	uint64_t *sz;

	if (ns->n == MAX_INPUTS)
		return ts_err_set(err, TS_ETOOBIG, "more than %d files in one hour", MAX_INPUTS);
	sz = realloc(ns->size, sizeof(uint64_t) * (size_t)(ns->n + 1));
	if (sz)
		ns->size = sz;
	v = sz ? realloc(ns->v, sizeof(char *) * (size_t)(ns->n + 1)) : NULL;
	if (!v || !(v[ns->n] = strndup(s, len))) {
		if (v)
			ns->v = v;
		return ts_err_set(err, TS_ENOMEM, "out of memory");
	}
	ns->v = v;
	ns->size[ns->n] = size;
	ns->n++;
	return 0;
}

static int names_add(struct names *ns, const char *s, size_t len, struct ts_err *err)
{
	return names_add_sized(ns, s, len, 0, err);
}

static int names_has(const struct names *ns, const char *s)
{
	for (int i = 0; i < ns->n; i++)
		if (!strcmp(ns->v[i], s))
			return 1;
	return 0;
}

struct sized_name {
	char *name;
	uint64_t size;
};

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct sized_name *)a)->name, ((const struct sized_name *)b)->name);
}

/* Sorts by name, sizes along. Returns 0 or TS_ENOMEM (then unsorted). */
static int names_sort(struct names *ns)
{
	struct sized_name *t;

	if (ns->n < 2)
		return 0;
	t = malloc(sizeof(*t) * (size_t)ns->n);
	if (!t)
		return TS_ENOMEM;
	for (int i = 0; i < ns->n; i++)
		t[i] = (struct sized_name){ns->v[i], ns->size[i]};
	qsort(t, (size_t)ns->n, sizeof(*t), by_name);
	for (int i = 0; i < ns->n; i++) {
		ns->v[i] = t[i].name;
		ns->size[i] = t[i].size;
	}
	free(t);
	return 0;
}

static void names_release(struct names *ns)
{
	for (int i = 0; i < ns->n; i++)
		free(ns->v[i]);
	free(ns->v);
	free(ns->size);
	ns->v = NULL;
	ns->size = NULL;
	ns->n = 0;
}

int ingest_compact_plan(const uint64_t *size, int n, uint64_t target, int *run)
{
	int r = -1, runs = 0, members = 0;
	uint64_t sum = 0;

	for (int i = 0; i < n; i++) {
		if (target && size[i] >= target) {
			run[i] = -1; /* big enough already: left as it is */
			continue;
		}
		if (r < 0 || (target && size[i] > target - sum)) {
			r++;
			sum = 0;
		}
		run[i] = r;
		sum += size[i];
	}
	/* Runs of one file are left as they are; the others are renumbered. */
	for (int k = 0; k <= r; k++) {
		members = 0;
		for (int i = 0; i < n; i++)
			members += run[i] == k;
		for (int i = 0; i < n; i++)
			if (run[i] == k)
				run[i] = members > 1 ? runs : -1;
		runs += members > 1;
	}
	return runs;
}

/* The files of run k (names point into all). */
static int run_names(const struct names *all, const int *run, int k, struct names *out,
                     struct ts_err *err)
{
	int rc = 0;

	for (int i = 0; !rc && i < all->n; i++)
		if (run[i] == k)
			rc = names_add_sized(out, all->v[i], strlen(all->v[i]), all->size[i], err);
	return rc;
}

/* "compact-nN-<hash of the input names>.parquet": derived from the inputs
 * only, so a re-run after a crash makes the same name, and of a fixed
 * length however often an hour's files are merged again. */
static void merged_name(const struct names *inputs, char *out, size_t size)
{
	uint64_t h = TEXT_FNV_SEED;

	for (int i = 0; i < inputs->n; i++) {
		const char *base = strrchr(inputs->v[i], '/');

		base = base ? base + 1 : inputs->v[i];
		h = text_fnv1a(base, strlen(base) + 1, h); /* with its NUL, as a separator */
	}
	snprintf(out, size, "compact-n%d-%016llx.parquet", inputs->n, (unsigned long long)h);
}

/* ---- bookkeeping --------------------------------------------------------- */

/* The commit point's bookkeeping: the rows whose file is inputs->v[i] (a
 * key; a row's file is its compacted_into, else its path) now live in
 * outputs[i]. Only those: a file committed while this compaction ran is not
 * in the merge, and naming a merge as its holder would have the next round
 * delete it as garbage (S3) or send readers to a file without its rows. One
 * transaction, so readers switch every run of the hour at once. */
static int map_inputs(struct db *db, const struct hour *h, const struct names *inputs,
                      const char *const *outputs, struct ts_err *err)
{
	const char *params[] = {NULL, h->region, h->day, h->hour, NULL};
	int rc = 0;

	for (int i = 0; !rc && i < inputs->n; i++) {
		params[0] = outputs[i];
		params[4] = inputs->v[i];
		rc = db_execp(db,
		              "UPDATE ingest_files SET compacted_into = $1 WHERE region = $2 AND "
		              "day = $3 AND hour = $4 AND path <> $1 AND coalesce(compacted_into, "
		              "path) = $5",
		              5, params, NULL, err);
	}
	return rc;
}

/* A local lake's rows not yet marked published (root: the lake folder),
 * in the hour lock: one whose staged file is still there was not merged
 * (its rename into the folder waits for the lock), so it is in no output;
 * one whose staged file is gone was renamed into the folder by an ingest
 * that died before marking it, so it is published. */
static int settle_unpublished(struct db *db, const char *root, const struct hour *h,
                              struct ts_err *err)
{
	const char *params[] = {h->region, h->day, h->hour};
	char staged[8192];
	PGresult *r = NULL;
	int rc = db_execp(db,
	                  "SELECT path, staged_path FROM ingest_files WHERE region = $1 AND "
	                  "day = $2 AND hour = $3 AND NOT published",
	                  3, params, &r, err);

	for (int i = 0; !rc && i < PQntuples(r); i++) {
		const char *row[] = {PQgetvalue(r, i, 0)};

		snprintf(staged, sizeof(staged), "%s/%s", root, PQgetvalue(r, i, 1));
		rc = db_execp(db,
		              fs_exists(staged)
		                  ? "UPDATE ingest_files SET compacted_into = NULL WHERE path = $1"
		                  : "UPDATE ingest_files SET published = true WHERE path = $1",
		              1, row, NULL, err);
	}
	PQclear(r);
	return rc;
}

/* map_inputs in one transaction; on a local lake (root set), with
 * settle_unpublished. */
static int record_inputs(struct db *db, const char *root, const struct hour *h,
                         const struct names *inputs, const char *const *outputs, struct ts_err *err)
{
	int rc = db_exec(db, "BEGIN", err);

	rc = rc ? rc : map_inputs(db, h, inputs, outputs, err);
	rc = rc || !root ? rc : settle_unpublished(db, root, h, err);
	rc = rc ? rc : db_exec(db, "COMMIT", err);
	if (rc)
		db_exec(db, "ROLLBACK", NULL);
	return rc;
}

/* A local hour folder that holds one file, new_key: every row of the hour
 * lives in it (settle_unpublished takes back those still staged) — also
 * after an older version's crash between its swap and its bookkeeping,
 * when the rows still name the inputs the swap removed. */
static int record_folder(struct db *db, const char *root, const struct hour *h, const char *new_key,
                         struct ts_err *err)
{
	const char *params[] = {new_key, h->region, h->day, h->hour};
	int rc = db_exec(db, "BEGIN", err);

	rc = rc ? rc
	        : db_execp(db,
	                   "UPDATE ingest_files SET compacted_into = $1 WHERE region = $2 AND "
	                   "day = $3 AND hour = $4 AND path <> $1 AND compacted_into IS "
	                   "DISTINCT FROM $1",
	                   4, params, NULL, err);
	rc = rc ? rc : settle_unpublished(db, root, h, err);
	rc = rc ? rc : db_exec(db, "COMMIT", err);
	if (rc)
		db_exec(db, "ROLLBACK", NULL);
	return rc;
}

/* The hour is compacted as of now, holding `expect` files. Its file count
 * comes from the bookkeeping: when a file was committed meanwhile (not in
 * this merge), the hour stays due for the next round. */
static int record_hour(struct db *db, const struct hour *h, int expect, struct ts_err *err)
{
	char n[16];
	const char *params[] = {h->region, h->day, h->hour, n};

	snprintf(n, sizeof(n), "%d", expect > 1 ? expect : 1);
	return db_execp(
	    db,
	    "UPDATE lake_hours SET files = c.n, compacted_at = CASE WHEN c.n > "
	    "$4::int THEN NULL ELSE now() END FROM (SELECT count(DISTINCT "
	    "coalesce(compacted_into, path)) AS n FROM ingest_files WHERE region = $1 "
	    "AND day = $2 AND hour = $3) c WHERE region = $1 AND day = $2 AND hour = $3",
	    4, params, NULL, err);
}

/* ---- local lake ---------------------------------------------------------- */

/* The .parquet files of a folder (names only); none when it is missing. */
static int list_folder(const char *dir, struct names *out, struct ts_err *err)
{
	struct dirent *e;
	DIR *d = opendir(dir);
	int rc = 0;

	if (!d)
		return 0;
	while (!rc && (e = readdir(d))) {
		size_t len = strlen(e->d_name);
		struct stat st;

		if (len >= 9 && len <= NAME_MAX_LEN && !strcmp(e->d_name + len - 8, ".parquet") &&
		    e->d_name[0] != '.')
			rc = names_add_sized(
			    out, e->d_name, len,
			    fstatat(dirfd(d), e->d_name, &st, 0) ? 0 : (uint64_t)st.st_size, err);
	}
	closedir(d);
	if (!rc && names_sort(out))
		rc = ts_err_set(err, TS_ENOMEM, "out of memory");
	return rc;
}

int ingest_compact_merged_into(const char *hour)
{
	struct names names = {0};
	int found = 0;

	if (list_folder(hour, &names, NULL))
		return 0;
	for (int i = 0; !found && i < names.n; i++)
		found = !strncmp(names.v[i], "compact-", 8);
	names_release(&names);
	return found;
}

/* Writes the merge of the files `names` of folder hour into path. */
static int merge_files(const char *hour, const struct names *names, const char *path, int64_t *rows,
                       struct ts_err *err)
{
	struct parquet_writer *w = NULL;
	struct parquet_writer_opts o;
	char in[4096];
	int ncols, rc;
	const struct parquet_writer_column *schema = ingest_raw_schema(&ncols);

	writer_opts(&o);
	rc = parquet_writer_new_file(path, schema, ncols, &o, &w, err);
	for (int i = 0; !rc && i < names->n; i++) {
		struct parquet_reader *r = NULL;

		snprintf(in, sizeof(in), "%s/%s", hour, names->v[i]);
		rc = parquet_reader_open_file(in, &r, err);
		rc = rc ? rc : copy_rows(r, w, rows, err);
	}
	rc = rc ? rc : parquet_writer_close(w, err);
	parquet_writer_free(w);
	return rc;
}

/* The atomic step: the staged folder and the hour folder trade places. */
static int swap(const char *staged, const char *hour, struct ts_err *err)
{
	char parent[4096];
	int rc;

	if (renameat2(AT_FDCWD, staged, AT_FDCWD, hour, RENAME_EXCHANGE))
		return ts_err_set(err, TS_EIO, "swap %s <-> %s: %s", staged, hour, strerror(errno));
	/* A failed sync fails the round after its swap: the next one finds the
	 * manifest in the hour folder, syncs again and finishes the
	 * bookkeeping. */
	snprintf(parent, sizeof(parent), "%s/..", hour);
	rc = fs_sync_dir(parent, err);
	snprintf(parent, sizeof(parent), "%s/..", staged);
	return rc ? rc : fs_sync_dir(parent, err);
}

/*
 * The manifest of a local compaction: one line "INPUT\tOUTPUT" (file names)
 * per merged file. It is written into the staged folder before the swap, so
 * it arrives in the hour folder with the merged files; the bookkeeping is
 * then made from it and it is deleted. A compaction that crashed after its
 * swap leaves it there for the next round, which finishes that bookkeeping
 * first. Its name starts with '.', so listings of the lake skip it.
 */
#define MANIFEST     ".compact-manifest"
#define MANIFEST_MAX (8u << 20)

static int write_manifest(const char *staged, const struct names *all, const int *run,
                          const struct names *outs, struct ts_err *err)
{
	char path[4096 + 32];
	int fd, rc = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", staged, MANIFEST);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	f = fd < 0 ? NULL : fdopen(fd, "w");
	if (!f) {
		if (fd >= 0)
			close(fd);
		return ts_err_set(err, TS_EIO, "cannot create %s: %s", path, strerror(errno));
	}
	for (int i = 0; i < all->n; i++)
		if (run[i] >= 0)
			fprintf(f, "%s\t%s\n", all->v[i], outs->v[run[i]]);
	if (fflush(f) || fsync(fileno(f)))
		rc = ts_err_set(err, TS_EIO, "cannot write %s: %s", path, strerror(errno));
	if (fclose(f) && !rc)
		rc = ts_err_set(err, TS_EIO, "cannot write %s: %s", path, strerror(errno));
	return rc ? rc : fs_sync_dir(staged, err);
}

/* Reads the hour folder's manifest, if any, makes its bookkeeping and
 * deletes it. */
static int apply_manifest(struct db *db, const char *root, const struct hour *h, const char *hour,
                          struct ts_err *err)
{
	char path[4096 + 32], key[2][STORE_KEY_MAX];
	struct names in = {0}, out = {0};
	const char **outputs = NULL;
	struct dbuf m;
	char *line, *next;
	int fd, rc = 0;

	snprintf(path, sizeof(path), "%s/%s", hour, MANIFEST);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT
		           ? 0
		           : ts_err_set(err, TS_EIO, "cannot open %s: %s", path, strerror(errno));
	dbuf_init(&m, MANIFEST_MAX);
	for (;;) {
		ssize_t k;

		if ((rc = dbuf_reserve(&m, 65536))) {
			rc = ts_err_set(err, rc, "%s: larger than %u bytes", path, MANIFEST_MAX);
			break;
		}
		k = read(fd, m.buf + m.len, 65536);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			rc = ts_err_set(err, TS_EIO, "cannot read %s: %s", path, strerror(errno));
		if (k <= 0)
			break;
		m.len += (size_t)k;
	}
	close(fd);
	if (m.buf)
		m.buf[m.len] = '\0'; /* (an empty manifest reads as no line) */
	for (line = m.buf; !rc && line && *line; line = next) {
		char *tab = strchr(line, '\t'), *nl = strchr(line, '\n');

		if (!tab || !nl || tab > nl) {
			rc = ts_err_set(err, TS_ECORRUPT, "%s: a line is not INPUT<tab>OUTPUT",
			                path);
			break;
		}
		*tab = *nl = '\0';
		next = nl + 1;
		snprintf(key[0], sizeof(key[0]), "%s/%s", h->dir, line);
		snprintf(key[1], sizeof(key[1]), "%s/%s", h->dir, tab + 1);
		rc = names_add(&in, key[0], strlen(key[0]), err);
		rc = rc ? rc : names_add(&out, key[1], strlen(key[1]), err);
	}
	if (!rc && in.n && !(outputs = malloc(sizeof(*outputs) * (size_t)in.n)))
		rc = ts_err_set(err, TS_ENOMEM, "out of memory");
	for (int i = 0; !rc && i < in.n; i++)
		outputs[i] = out.v[i];
	rc = rc ? rc : record_inputs(db, root, h, &in, outputs, err);
	if (!rc && unlink(path) && errno != ENOENT)
		rc = ts_err_set(err, TS_EIO, "cannot delete %s: %s", path, strerror(errno));
	rc = rc ? rc : fs_sync_dir(hour, err);
	free(outputs);
	names_release(&in);
	names_release(&out);
	dbuf_release(&m);
	return rc;
}

/* Merges each run of the hour folder's files into its own file in the
 * staged folder, and links the files left as they are beside them. */
static int stage_runs(const char *hour, const char *staged, const struct names *names,
                      const int *run, int runs, struct names *outs, int64_t *rows,
                      struct ts_err *err)
{
	char name[NAME_MAX_LEN + 64], from[8192], to[8192];
	int rc = fs_mkdirs(staged, err);

	for (int k = 0; !rc && k < runs; k++) {
		struct names in = {0};

		rc = run_names(names, run, k, &in, err);
		if (!rc) {
			merged_name(&in, name, sizeof(name));
			if (names_has(names, name))
				rc = ts_err_set(err, TS_ECORRUPT, "%s: merged name %s is taken",
				                hour, name);
		}
		rc = rc ? rc : names_add(outs, name, strlen(name), err);
		snprintf(to, sizeof(to), "%s/%s", staged, name);
		rc = rc ? rc : merge_files(hour, &in, to, rows, err);
		names_release(&in);
	}
	for (int i = 0; !rc && i < names->n; i++) {
		if (run[i] >= 0)
			continue;
		snprintf(from, sizeof(from), "%s/%s", hour, names->v[i]);
		snprintf(to, sizeof(to), "%s/%s", staged, names->v[i]);
		if (link(from, to))
			rc =
			    ts_err_set(err, TS_EIO, "link %s -> %s: %s", from, to, strerror(errno));
	}
	return rc ? rc : write_manifest(staged, names, run, outs, err);
}

static int compact_local(struct db *db, const struct ingest_lake *lake, const struct hour *h,
                         int *files_in, int64_t *rows, struct ts_err *err)
{
	char hour[4096], staged[4096], key[4096], manifest[4096 + 32];
	struct names names = {0}, outs = {0};
	int *run = NULL, runs = 0, merged = 0;
	int rc = 0;

	snprintf(hour, sizeof(hour), "%s/%s", lake->root, h->dir);
	snprintf(staged, sizeof(staged), "%s/_staging/compact/%s-%s-%s", lake->root, h->region,
	         h->day, h->hour);
	/* A manifest in the hour folder: a round that swapped, then crashed or
	 * failed to sync. Its swap is made durable before the old files (in
	 * the staged folder) are deleted. */
	snprintf(manifest, sizeof(manifest), "%s/%s", hour, MANIFEST);
	if (fs_exists(manifest))
		rc = fs_sync_dir_of(hour, err);
	/* Leftovers of a compaction that crashed before its swap; the
	 * bookkeeping of one that crashed after it. */
	rc = rc ? rc : fs_remove_tree(staged, err);
	rc = rc ? rc : apply_manifest(db, lake->root, h, hour, err);
	rc = rc ? rc : list_folder(hour, &names, err);
	if (!rc && names.n < 2) {
		/* Nothing to merge (or an older version's crash between its swap
		 * and its bookkeeping): record the state, so the hour is not
		 * picked again. */
		snprintf(key, sizeof(key), "%s/%s", h->dir, names.n ? names.v[0] : "");
		rc = names.n ? record_folder(db, lake->root, h, key, err) : 0;
		rc = rc ? rc : record_hour(db, h, names.n, err);
		goto out;
	}
	if (!rc && !(run = malloc(sizeof(int) * (size_t)names.n)))
		rc = ts_err_set(err, TS_ENOMEM, "out of memory");
	if (!rc)
		runs = ingest_compact_plan(names.size, names.n, lake->compact_target, run);
	for (int i = 0; !rc && i < names.n; i++)
		merged += run[i] >= 0;
	if (!rc && !runs) { /* every file big enough, or alone in its run */
		rc = record_hour(db, h, names.n, err);
		goto out;
	}
	rc = rc ? rc : stage_runs(hour, staged, &names, run, runs, &outs, rows, err);
	if (!rc)
		failpoint("compact.merged");
	rc = rc ? rc : swap(staged, hour, err);
	if (!rc)
		failpoint("compact.swapped");
	rc = rc ? rc : fs_remove_tree(staged, err); /* the old files, now */
	rc = rc ? rc : apply_manifest(db, lake->root, h, hour, err);
	rc = rc ? rc : record_hour(db, h, names.n - merged + runs, err);
	*files_in = rc ? 0 : merged;
out:
	free(run);
	names_release(&names);
	names_release(&outs);
	return rc;
}

/* ---- object store ------------------------------------------------------ */

/* The hour's live files according to the bookkeeping (the manifest).
 * TS_EUNAVAIL while one of its files is committed but not yet published. */
static int live_files(struct db *db, const struct hour *h, struct names *live, struct ts_err *err)
{
	const char *params[] = {h->region, h->day, h->hour};
	PGresult *r = NULL;
	int rc = db_execp(db,
	                  "SELECT coalesce(compacted_into, path), bool_and(published) FROM "
	                  "ingest_files WHERE region = $1 AND day = $2 AND hour = $3 GROUP BY 1 "
	                  "ORDER BY 1",
	                  3, params, &r, err);

	for (int i = 0; !rc && i < PQntuples(r); i++) {
		if (strcmp(PQgetvalue(r, i, 1), "t"))
			rc =
			    ts_err_set(err, TS_EUNAVAIL, "%s: a file is not yet published", h->dir);
		else
			rc = names_add(live, PQgetvalue(r, i, 0), strlen(PQgetvalue(r, i, 0)), err);
	}
	PQclear(r);
	return rc;
}

static int add_listed(const struct store_entry *e, void *arg)
{
	size_t len = strlen(e->key);

	if (len < 9 || strcmp(e->key + len - 8, ".parquet"))
		return 0;
	return names_add_sized(arg, e->key, len, e->size, NULL);
}

/* Deletes the objects of the hour that the bookkeeping does not list: old
 * inputs of a recorded compaction, or a merge uploaded but never recorded.
 * Fails when a live file is missing. */
static int clean_hour(struct store *s, const char *dir, const struct names *live,
                      struct ts_err *err)
{
	struct names listed = {0};
	char prefix[STORE_KEY_MAX];
	int rc;

	snprintf(prefix, sizeof(prefix), "%s/", dir);
	rc = store_list(s, prefix, add_listed, &listed, err);
	if (rc)
		ts_err_wrap(err, "listing %s", prefix);
	for (int i = 0; !rc && i < listed.n; i++) {
		if (!names_has(live, listed.v[i])) {
			log_info("compact-clean", "key=%s", listed.v[i]);
			rc = store_delete(s, listed.v[i], err);
		}
	}
	for (int i = 0; !rc && i < live->n; i++) {
		int j = 0;

		while (j < listed.n && strcmp(listed.v[j], live->v[i]))
			j++;
		if (j == listed.n)
			rc = ts_err_set(err, TS_ECORRUPT,
			                "committed file %s is missing from the lake", live->v[i]);
		else
			live->size[i] = listed.size[j];
	}
	names_release(&listed);
	return rc;
}

/* Builds the merge of the live objects in memory; *out is the caller's. */
static int merge_objects(struct store *s, const struct names *live, void **out, size_t *len,
                         int64_t *rows, struct ts_err *err)
{
	struct parquet_writer *w = NULL;
	struct parquet_writer_opts o;
	struct dbuf buf;
	int ncols, rc;
	const struct parquet_writer_column *schema = ingest_raw_schema(&ncols);

	writer_opts(&o);
	dbuf_init(&buf, OBJECT_MAX);
	rc = parquet_writer_new_mem(schema, ncols, &o, &w, err);
	for (int i = 0; !rc && i < live->n; i++) {
		struct parquet_reader *r = NULL;

		rc = store_get(s, live->v[i], OBJECT_MAX, &buf, err);
		rc = rc ? rc : parquet_reader_open_mem(buf.buf, buf.len, live->v[i], &r, err);
		rc = rc ? rc : copy_rows(r, w, rows, err);
	}
	rc = rc ? rc : parquet_writer_close(w, err);
	*out = rc ? NULL : parquet_writer_take(w, len);
	parquet_writer_free(w);
	dbuf_release(&buf);
	return rc;
}

/* Merges run k of the live objects and uploads it; its key goes to outs. */
static int upload_run(struct store *s, const struct hour *h, const struct names *live,
                      const int *run, int k, struct names *outs, int64_t *rows, struct ts_err *err)
{
	char name[NAME_MAX_LEN + 64], key[STORE_KEY_MAX];
	struct names in = {0};
	void *data = NULL;
	size_t len = 0;
	int rc = run_names(live, run, k, &in, err);

	if (!rc) {
		merged_name(&in, name, sizeof(name));
		snprintf(key, sizeof(key), "%s/%s", h->dir, name);
		if (names_has(live, key))
			BUG("merged name %s is one of the hour's files", key);
		rc = names_add(outs, key, strlen(key), err);
	}
	rc = rc ? rc : merge_objects(s, &in, &data, &len, rows, err);
	if (!rc)
		failpoint("compact.merged");
	rc = rc ? rc : store_put(s, key, data, len, err);
	if (!rc)
		failpoint("compact.uploaded");
	free(data);
	names_release(&in);
	return rc;
}

static int compact_store(struct db *db, const struct ingest_lake *lake, const struct hour *h,
                         int *files_in, int64_t *rows, struct ts_err *err)
{
	struct names live = {0}, outs = {0}, in = {0};
	const char **outputs = NULL;
	int *run = NULL, runs = 0;
	int rc = live_files(db, h, &live, err);

	*files_in = 0;
	if (rc == TS_EUNAVAIL) { /* ingest publishes it soon; try next round */
		rc = 0;
		goto out;
	}
	rc = rc ? rc : clean_hour(lake->store, h->dir, &live, err);
	if (!rc && live.n < 2) {
		const char *self[] = {live.n ? live.v[0] : NULL};

		rc = live.n ? record_inputs(db, NULL, h, &live, self, err) : 0;
		rc = rc ? rc : record_hour(db, h, live.n, err);
		goto out;
	}
	if (!rc && !(run = malloc(sizeof(int) * (size_t)live.n)))
		rc = ts_err_set(err, TS_ENOMEM, "out of memory");
	if (!rc)
		runs = ingest_compact_plan(live.size, live.n, lake->compact_target, run);
	if (!rc && !runs) { /* every file big enough, or alone in its run */
		rc = record_hour(db, h, live.n, err);
		goto out;
	}
	for (int k = 0; !rc && k < runs; k++)
		rc = upload_run(lake->store, h, &live, run, k, &outs, rows, err);
	/* The commit point: from here on the merged objects are garbage. */
	for (int i = 0; !rc && i < live.n; i++)
		if (run[i] >= 0)
			rc = names_add(&in, live.v[i], strlen(live.v[i]), err);
	if (!rc && !(outputs = malloc(sizeof(*outputs) * (size_t)in.n)))
		rc = ts_err_set(err, TS_ENOMEM, "out of memory");
	for (int i = 0, j = 0; !rc && i < live.n; i++)
		if (run[i] >= 0)
			outputs[j++] = outs.v[run[i]];
	rc = rc ? rc : record_inputs(db, NULL, h, &in, outputs, err);
	if (!rc)
		failpoint("compact.recorded");
	for (int i = 0; !rc && i < in.n; i++)
		rc = store_delete(lake->store, in.v[i], err);
	rc = rc ? rc : record_hour(db, h, live.n - in.n + runs, err);
	*files_in = rc ? 0 : in.n;
out:
	free(outputs);
	free(run);
	names_release(&live);
	names_release(&outs);
	names_release(&in);
	return rc;
}

/* ---- entry points ------------------------------------------------------ */

int ingest_compact_dir(struct db *db, const struct ingest_lake *lake, const char *dir,
                       int *files_in, int64_t *rows, struct ts_err *err)
{
	struct hour h = {.dir = dir};
	int64_t t0 = time_mono_us();
	int rc;

	*rows = 0;
	*files_in = 0;
	if (sscanf(dir, "raw/region=%15[^/]/date=%15[^/]/hour=%7s", h.region, h.day, h.hour) != 3)
		return ts_err_set(err, TS_EINVAL, "%s is not an hour folder of raw/", dir);
	rc = ingest_hour_lock(db, dir, 1, err);
	if (rc)
		return rc;
	rc = lake->root ? compact_local(db, lake, &h, files_in, rows, err)
	                : compact_store(db, lake, &h, files_in, rows, err);
	ingest_hour_lock(db, dir, 0, NULL);
	if (!rc && *files_in > 1)
		log_info("compacted", "dir=%s files=%d rows=%lld ms=%lld", dir, *files_in,
		         (long long)*rows, (long long)((time_mono_us() - t0) / 1000));
	return rc ? ts_err_wrap(err, "compacting %s", dir) : 0;
}

int ingest_compact_closed(struct db *db, const struct ingest_lake *lake, int max_hours, int *hours,
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
		rc = ingest_compact_dir(db, lake, dir, &files, &rows, err);
		*hours += !rc && files > 1;
	}
	PQclear(r);
	return rc;
}
