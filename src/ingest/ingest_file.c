/*
 * Raw lake files: schema, paths and row appends; see ingest_file.h.
 */
#include "base/common.h"
#include "base/dbuf.h"
#include "base/fsutil.h"
#include "base/timeutil.h"
#include "ingest/ingest_file.h"
#include "parquet/parquet_compress.h"
#include "parquet/parquet_decode.h"
#include "parquet/parquet_writer.h"
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

enum raw_col {
	COL_EVENT_ID,
	COL_USER_ID,
	COL_SONG_ID,
	COL_TS,
	COL_COUNTRY,
	COL_CITY,
	COL_LAT,
	COL_LON,
	COL_DEVICE,
	COL_DURATION,
	COL_PARTITION,
	COL_OFFSET,
	COL_INGEST_TIME,
	COL_COUNT
};

/* The raw schema; region, date and hour live in the path only. */
static const struct parquet_writer_column raw_schema[COL_COUNT] = {
    {"event_id", PARQUET_BYTE_ARRAY, PARQUET_LT_STRING, false},
    {"user_id", PARQUET_BYTE_ARRAY, PARQUET_LT_STRING, false},
    {"song_id", PARQUET_BYTE_ARRAY, PARQUET_LT_STRING, false},
    {"ts", PARQUET_INT64, PARQUET_LT_TIMESTAMP_MILLIS, false},
    {"country", PARQUET_BYTE_ARRAY, PARQUET_LT_STRING, true},
    {"city", PARQUET_BYTE_ARRAY, PARQUET_LT_STRING, true},
    {"lat", PARQUET_DOUBLE, PARQUET_LT_NONE, true},
    {"lon", PARQUET_DOUBLE, PARQUET_LT_NONE, true},
    {"device", PARQUET_BYTE_ARRAY, PARQUET_LT_STRING, true},
    {"duration_ms", PARQUET_INT32, PARQUET_LT_NONE, true},
    {"kafka_partition", PARQUET_INT32, PARQUET_LT_NONE, false},
    {"kafka_offset", PARQUET_INT64, PARQUET_LT_NONE, false},
    {"ingest_time", PARQUET_INT64, PARQUET_LT_TIMESTAMP_MILLIS, false},
};

const struct parquet_writer_column *ingest_raw_schema(int *ncols)
{
	*ncols = COL_COUNT;
	return raw_schema;
}

int ingest_lake_open(const struct ts_config *cfg, struct ingest_lake *lake, struct ts_err *err)
{
	struct store_opts opts;

	lake->compact_target = (uint64_t)cfg->ingest_compact_target_kbytes << 10;
	if (strncmp(cfg->lake_url, "s3://", 5)) {
		lake->root = cfg->lake_url;
		return fs_mkdirs(lake->root, err);
	}
	store_opts_from_config(cfg, &opts);
	return store_open(cfg->lake_url, &opts, &lake->store, err);
}

void ingest_batch_dir(const char *topic, int32_t partition, int64_t first, char *out, size_t size)
{
	snprintf(out, size, "_staging/%s/p%d-o%lld", topic, (int)partition, (long long)first);
}

#define US_PER_HOUR (3600 * TIME_US_PER_SEC)

/* The UTC hour holding ts, as hours since the epoch (floor, also before
 * 1970). */
static int64_t hour_of(int64_t ts_us)
{
	int64_t h = ts_us / US_PER_HOUR;

	return h - (ts_us % US_PER_HOUR < 0);
}

/* An integer compare rather than a calendar conversion: it runs for every
 * open file of the batch, for every record. */
int ingest_file_matches(const struct ingest_file *f, const struct play_event *ev)
{
	return hour_of(ev->ts_us) == f->hour_key && !strcmp(ev->region, f->region);
}

/* The folder of a staged file, path: its batch's folder. That one is new
 * each batch and is made by the batch's first file to close, on a writer
 * thread of the committer, without a sync: ingest_files_sync makes its
 * entry durable with the batch's files. The folders above it (the topic's
 * staging folder) are made and synced once, when the committer starts
 * (ingest_committer.c); making them here too is only for a folder removed
 * while ingest runs. */
static int make_batch_dir(const char *path, struct ts_err *err)
{
	char dir[INGEST_PATH_MAX * 2];
	const char *slash = strrchr(path, '/');
	int rc;

	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) : 0, path);
	rc = mkdir(dir, 0755);
	if (rc && errno == ENOENT) { /* the first batch: the folders above */
		if (fs_mkdirs_for(dir, err))
			return err->code;
		rc = mkdir(dir, 0755);
	}
	if (rc && errno != EEXIST)
		return ts_err_set(err, TS_EIO, "mkdir %s: %s", dir, strerror(errno));
	return 0;
}

void ingest_file_open(struct ingest_file *f, const char *batch_dir, const struct play_event *ev)
{
	struct time_civil c;

	memset(f, 0, sizeof(*f));
	time_to_civil(ev->ts_us, &c);
	memcpy(f->region, ev->region, sizeof(f->region));
	f->year = c.year;
	f->month = c.month;
	f->day = c.day;
	f->hour = c.hour;
	f->hour_key = hour_of(ev->ts_us);
	snprintf(f->staged, sizeof(f->staged), "%s/%s-%04d-%02d-%02d-%02d.parquet", batch_dir,
	         f->region, f->year, f->month, f->day, f->hour);
}

/* The file's writer, made when the file is closed. */
static int open_writer(struct ingest_file *f, const struct ingest_lake *lake, struct ts_err *err)
{
	char path[INGEST_PATH_MAX * 2];
	struct parquet_writer_opts o;

	parquet_writer_opts_init(&o);
	o.codec = PARQUET_ZSTD;
	o.row_group_rows = 200000;
	o.row_group_bytes = 16u << 20;
	/* Nearly unique in every file: PLAIN from the start (a dictionary would
	 * be dropped at the first page, after a hash probe per value). */
	o.no_dictionary = 1u << COL_EVENT_ID | 1u << COL_TS | 1u << COL_OFFSET;
	/* Inline, on the writer thread: a file of a few thousand rows has
	 * one small page a column, and a helper thread per file (created,
	 * woken per page, joined) cost more than it overlapped
	 * (docs/ingest.md, "Throughput"). */
	o.threads = 0;
	if (!lake->root)
		return parquet_writer_new_mem(raw_schema, COL_COUNT, &o, &f->writer, err);
	o.no_sync = true; /* ingest_files_sync, for the whole batch at once */
	snprintf(path, sizeof(path), "%s/%s", lake->root, f->staged);
	if (make_batch_dir(path, err))
		return err->code;
	return parquet_writer_new_file(path, raw_schema, COL_COUNT, &o, &f->writer, err);
}

/*
 * An open file only keeps its rows, in blocks of INGEST_ROWS_MAX; they
 * reach the writer when the committer closes the file, a column of a block
 * at a time. Row by row, each of a record's nine dictionary columns probed
 * its own hash table, one of up to a few hundred open files' tables: mostly
 * cache misses, 17 % of ingest's CPU. A column at once keeps one table in
 * the cache and lets the writer prefetch its slots ahead of the probes; on
 * the committer's writer threads, that work (and the file's creation)
 * leaves the main thread, which reads and routes the next records meanwhile
 * (docs/ingest.md, "Throughput").
 */
#define STR_COLS 6
static const int str_cols[STR_COLS] = {COL_EVENT_ID, COL_USER_ID, COL_SONG_ID,
                                       COL_COUNTRY,  COL_CITY,    COL_DEVICE};

/* The text of INGEST_ROWS_MAX rows of validated events is far below this. */
#define ROWS_TEXT_MAX (4u << 20)

struct ingest_rows {
	struct ingest_rows *next; /* the file's next block */
	size_t n;
	struct dbuf text; /* the strings' bytes, each at str[c][i].off */
	struct {
		uint32_t off, len;
	} str[STR_COLS][INGEST_ROWS_MAX];
	int64_t ts_ms[INGEST_ROWS_MAX], offset[INGEST_ROWS_MAX], ingest_ms[INGEST_ROWS_MAX];
	double lat[INGEST_ROWS_MAX], lon[INGEST_ROWS_MAX];
	int32_t duration[INGEST_ROWS_MAX], partition[INGEST_ROWS_MAX];
	uint8_t has_str[STR_COLS][INGEST_ROWS_MAX];
	uint8_t has_lat_lon[INGEST_ROWS_MAX], has_duration[INGEST_ROWS_MAX];
};

static int keep_str(struct ingest_rows *r, int c, const char *s)
{
	size_t n = strlen(s), i = r->n;

	r->str[c][i].off = (uint32_t)r->text.len;
	r->str[c][i].len = (uint32_t)n;
	r->has_str[c][i] = n > 0; /* an empty optional string is stored as null */
	return dbuf_add(&r->text, s, n);
}

/* Hands a block of rows to the file's writer. */
static int put_rows(struct ingest_file *f, const struct ingest_rows *r, struct ts_err *err)
{
	struct parquet_writer *w = f->writer;
	struct parquet_bytes b[INGEST_ROWS_MAX];
	int rc = 0;

	for (int c = 0; !rc && c < STR_COLS; c++) {
		for (size_t i = 0; i < r->n; i++) {
			b[i].ptr = (const uint8_t *)r->text.buf + r->str[c][i].off;
			b[i].len = r->str[c][i].len;
		}
		rc = parquet_writer_put_column(
		    w, str_cols[c], b, raw_schema[str_cols[c]].optional ? r->has_str[c] : NULL,
		    r->n);
	}
	rc = rc ? rc : parquet_writer_put_column(w, COL_TS, r->ts_ms, NULL, r->n);
	rc = rc ? rc : parquet_writer_put_column(w, COL_LAT, r->lat, r->has_lat_lon, r->n);
	rc = rc ? rc : parquet_writer_put_column(w, COL_LON, r->lon, r->has_lat_lon, r->n);
	rc = rc ? rc
	        : parquet_writer_put_column(w, COL_DURATION, r->duration, r->has_duration, r->n);
	rc = rc ? rc : parquet_writer_put_column(w, COL_PARTITION, r->partition, NULL, r->n);
	rc = rc ? rc : parquet_writer_put_column(w, COL_OFFSET, r->offset, NULL, r->n);
	rc = rc ? rc : parquet_writer_put_column(w, COL_INGEST_TIME, r->ingest_ms, NULL, r->n);
	if (rc)
		return ts_err_set(err, rc, "%s: cannot add %zu rows", f->staged, r->n);
	return parquet_writer_end_rows(w, r->n, err);
}

/* The block the next row goes into: the last one, or a new one when it is
 * full. */
static struct ingest_rows *block_for_row(struct ingest_file *f)
{
	struct ingest_rows *r = f->last;

	if (r && r->n < INGEST_ROWS_MAX)
		return r;
	if (!(r = malloc(sizeof(*r))))
		return NULL;
	r->next = NULL;
	r->n = 0;
	dbuf_init(&r->text, ROWS_TEXT_MAX);
	if (f->last)
		f->last->next = r;
	else
		f->pending = r;
	f->last = r;
	return r;
}

int ingest_file_append(struct ingest_file *f, const struct play_event *ev, int32_t partition,
                       int64_t offset, int64_t ingest_us, struct ts_err *err)
{
	const char *strs[STR_COLS] = {ev->event_id, ev->user_id, ev->song_id,
	                              ev->country,  ev->city,    ev->device};
	struct ingest_rows *r = block_for_row(f);
	size_t i;
	int rc = 0;

	if (!r)
		return ts_err_set(err, TS_ENOMEM, "%s: out of memory", f->staged);
	i = r->n;
	for (int c = 0; !rc && c < STR_COLS; c++)
		rc = keep_str(r, c, strs[c]);
	if (rc)
		return ts_err_set(err, rc, "%s: cannot keep a row's text", f->staged);
	r->ts_ms[i] = ev->ts_us / 1000;
	r->has_lat_lon[i] = ev->has_lat_lon;
	r->lat[i] = ev->has_lat_lon ? ev->lat : 0;
	r->lon[i] = ev->has_lat_lon ? ev->lon : 0;
	r->has_duration[i] = ev->has_duration;
	r->duration[i] = ev->has_duration ? (int32_t)ev->duration_ms : 0;
	r->partition[i] = partition;
	r->offset[i] = offset;
	r->ingest_ms[i] = ingest_us / 1000;
	r->n++;
	f->rows++;
	return 0;
}

/* Frees the file's first block. */
static void free_first_block(struct ingest_file *f)
{
	struct ingest_rows *next = f->pending->next;

	dbuf_release(&f->pending->text);
	free(f->pending);
	f->pending = next;
	if (!next)
		f->last = NULL;
}

static void free_pending(struct ingest_file *f)
{
	while (f->pending)
		free_first_block(f);
}

int ingest_file_close(struct ingest_file *f, const struct ingest_lake *lake, struct ts_err *err)
{
	int rc = open_writer(f, lake, err);
	size_t len = 0;
	void *bytes;

	/* Each block freed once in the writer: the file's rows are not held
	 * twice over. */
	while (!rc && f->pending) {
		rc = put_rows(f, f->pending, err);
		free_first_block(f);
	}
	free_pending(f);
	rc = rc ? rc : parquet_writer_close(f->writer, err);

	if (!rc && !lake->root) {
		bytes = parquet_writer_take(f->writer, &len);
		rc = store_put(lake->store, f->staged, bytes, len, err);
		free(bytes);
		f->bytes = (int64_t)len;
	} else if (!rc) {
		f->bytes = (int64_t)parquet_writer_bytes(f->writer);
	}
	parquet_writer_free(f->writer);
	f->writer = NULL;
	return rc;
}

/*
 * One fsync per file and one of its folder, file after file, cost about
 * 1.7 ms a file: each waited for the file's data and for a commit of the
 * file system's journal. Here the writeback of every file starts first,
 * so the data goes out together, and the first fsync's journal commit
 * covers the others' metadata (docs/ingest.md, "Publishing a batch at
 * once"). The fsyncs go through new descriptors, opened after the writer
 * closed its own: Linux (4.16 and later) reports a writeback error to
 * them too.
 */
int ingest_files_sync(const struct ingest_file *files, int n, const struct ingest_lake *lake,
                      struct ts_err *err)
{
	char path[INGEST_PATH_MAX * 2];
	int *fds, rc = 0;

	if (!lake->root || !n)
		return 0;
	if (!(fds = malloc((size_t)n * sizeof(*fds))))
		return ts_err_set(err, TS_ENOMEM, "out of memory");
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", lake->root, files[i].staged);
		fds[i] = rc ? -1 : open(path, O_RDONLY | O_CLOEXEC);
		if (fds[i] >= 0)
			sync_file_range(fds[i], 0, 0, SYNC_FILE_RANGE_WRITE); /* a hint only */
		else if (!rc)
			rc = ts_err_set(err, TS_EIO, "cannot open %s: %s", path, strerror(errno));
	}
	for (int i = 0; i < n; i++) {
		if (!rc && fsync(fds[i]))
			rc = ts_err_set(err, TS_EIO, "fsync %s/%s: %s", lake->root, files[i].staged,
			                strerror(errno));
		if (fds[i] >= 0)
			close(fds[i]);
	}
	free(fds);
	/* The batch's folder, then its entry in the topic's staging folder
	 * (make_batch_dir did not sync it). */
	snprintf(path, sizeof(path), "%s/%s", lake->root, files[0].staged);
	*strrchr(path, '/') = '\0'; /* the batch's folder */
	rc = rc ? rc : fs_sync_dir(path, err);
	return rc ? rc : fs_sync_dir_of(path, err);
}

void ingest_file_abort(struct ingest_file *f)
{
	free_pending(f);
	parquet_writer_free(f->writer);
	f->writer = NULL;
}

void ingest_file_final_key(const struct ingest_file *f, const char *topic, int32_t partition,
                           int64_t first, int64_t last, char *out, size_t size)
{
	snprintf(out, size, "raw/region=%s/date=%04d-%02d-%02d/hour=%02d/%s-p%d-o%lld-%lld.parquet",
	         f->region, f->year, f->month, f->day, f->hour, topic, (int)partition,
	         (long long)first, (long long)last);
}
