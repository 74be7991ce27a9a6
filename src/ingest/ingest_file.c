/*
 * Raw lake files: schema, paths and row appends; see ingest_file.h.
 */
#include "base/common.h"
#include "base/fsutil.h"
#include "base/timeutil.h"
#include "ingest/ingest_file.h"
#include "parquet/parquet_compress.h"
#include "parquet/parquet_writer.h"
#include "store/store.h"

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

int ingest_file_open(struct ingest_file *f, const struct ingest_lake *lake, const char *batch_dir,
                     const struct play_event *ev, struct ts_err *err)
{
	char path[INGEST_PATH_MAX * 2];
	struct parquet_writer_opts o;
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
	parquet_writer_opts_init(&o);
	o.codec = PARQUET_ZSTD;
	o.row_group_rows = 200000;
	o.row_group_bytes = 16u << 20;
	/* Nearly unique in every file: PLAIN from the start (a dictionary would
	 * be dropped at the first page, after a hash probe per value). */
	o.no_dictionary = 1u << COL_EVENT_ID | 1u << COL_TS | 1u << COL_OFFSET;
	if (!lake->root)
		return parquet_writer_new_mem(raw_schema, COL_COUNT, &o, &f->writer, err);
	snprintf(path, sizeof(path), "%s/%s", lake->root, f->staged);
	if (fs_mkdirs_for(path, err))
		return err->code;
	return parquet_writer_new_file(path, raw_schema, COL_COUNT, &o, &f->writer, err);
}

static int put_str(struct parquet_writer *w, int col, const char *s)
{
	return *s ? parquet_writer_put_bytes(w, col, s, strlen(s))
	          : parquet_writer_put_null(w, col);
}

int ingest_file_append(struct ingest_file *f, const struct play_event *ev, int32_t partition,
                       int64_t offset, int64_t ingest_us, struct ts_err *err)
{
	struct parquet_writer *w = f->writer;
	int rc = parquet_writer_put_bytes(w, COL_EVENT_ID, ev->event_id, strlen(ev->event_id));

	rc = rc ? rc : put_str(w, COL_USER_ID, ev->user_id);
	rc = rc ? rc : put_str(w, COL_SONG_ID, ev->song_id);
	rc = rc ? rc : parquet_writer_put_i64(w, COL_TS, ev->ts_us / 1000);
	rc = rc ? rc : put_str(w, COL_COUNTRY, ev->country);
	rc = rc ? rc : put_str(w, COL_CITY, ev->city);
	if (!rc && ev->has_lat_lon) {
		rc = parquet_writer_put_double(w, COL_LAT, ev->lat);
		rc = rc ? rc : parquet_writer_put_double(w, COL_LON, ev->lon);
	} else if (!rc) {
		rc = parquet_writer_put_null(w, COL_LAT);
		rc = rc ? rc : parquet_writer_put_null(w, COL_LON);
	}
	rc = rc ? rc : put_str(w, COL_DEVICE, ev->device);
	if (!rc)
		rc = ev->has_duration
		         ? parquet_writer_put_i32(w, COL_DURATION, (int32_t)ev->duration_ms)
		         : parquet_writer_put_null(w, COL_DURATION);
	rc = rc ? rc : parquet_writer_put_i32(w, COL_PARTITION, partition);
	rc = rc ? rc : parquet_writer_put_i64(w, COL_OFFSET, offset);
	rc = rc ? rc : parquet_writer_put_i64(w, COL_INGEST_TIME, ingest_us / 1000);
	if (rc)
		return ts_err_set(err, rc, "%s: cannot add a row", f->staged);
	rc = parquet_writer_end_row(w, err);
	f->rows += !rc;
	return rc;
}

int ingest_file_close(struct ingest_file *f, const struct ingest_lake *lake, struct ts_err *err)
{
	int rc = parquet_writer_close(f->writer, err);
	size_t len = 0;
	void *bytes;

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

void ingest_file_abort(struct ingest_file *f)
{
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
