/*
 * One lake file being written by ingest: the raw-schema Parquet writer for
 * one (region, date, hour) of one batch of one Kafka partition, in the
 * staging area, and the paths it is committed and published under.
 *
 * Layout (DESIGN.md), keys relative to the lake root:
 *   _staging/<topic>/p<P>-o<FIRST>/<REGION>-<DATE>-<HH>.parquet
 *   raw/region=<REGION>/date=<DATE>/hour=<HH>/<topic>-p<P>-o<FIRST>-<LAST>.parquet
 * Names derive from topic, partition and offsets only, so a re-run of the
 * same records produces the same names.
 *
 * An open file keeps its rows in memory; the committer makes the writer
 * and hands it the rows when it closes the file. A local lake's file is
 * then written to its staging path; an S3 lake's is built in memory and
 * uploaded whole.
 */
#ifndef INGEST_INGEST_FILE_H
#define INGEST_INGEST_FILE_H

#include <stdint.h>

#include "base/config.h"
#include "base/error.h"
#include "event/event.h"

struct store;

/* Where the lake is: a local folder (root), or an object store (store). */
struct ingest_lake {
	const char *root;
	struct store *store;
	uint64_t compact_target; /* bytes an output of compaction may reach; 0 = no limit */
};

#define INGEST_PATH_MAX 1024

/* Opens the lake of cfg: a local folder (created if missing) or an object
 * store. Each thread that writes the lake opens its own. */
int ingest_lake_open(const struct ts_config *cfg, struct ingest_lake *lake, struct ts_err *err);

/* The rows of an open file are kept in blocks of this many, handed to its
 * writer a column of a block at a time (ingest_file.c says why). */
#define INGEST_ROWS_MAX 512

struct ingest_rows;

struct ingest_file {
	char region[9];
	int year, month, day, hour;
	int64_t hour_key; /* the hour as hours since the epoch */
	int64_t rows;
	int64_t bytes;                 /* the file's size, once closed */
	char staged[INGEST_PATH_MAX];  /* key relative to the lake */
	struct parquet_writer *writer; /* only while ingest_file_close runs */
	struct ingest_rows *pending;   /* the rows appended, in blocks */
	struct ingest_rows *last;      /* the block being filled */
};

struct parquet_writer_column;

/* The raw lake schema (region, date and hour are in the path only). */
const struct parquet_writer_column *ingest_raw_schema(int *ncols);

/* The staging folder (key prefix) of a batch. */
void ingest_batch_dir(const char *topic, int32_t partition, int64_t first, char *out, size_t size);

/* Starts a file for ev's (region, date, hour) under batch_dir: a name and
 * no rows yet; nothing is written before ingest_file_close. */
void ingest_file_open(struct ingest_file *f, const char *batch_dir, const struct play_event *ev);

/* Whether ev belongs to f's lake partition. */
int ingest_file_matches(const struct ingest_file *f, const struct play_event *ev);

/* Appends one row to the file's blocks (an error of the writer surfaces
 * only when the file is closed). */
int ingest_file_append(struct ingest_file *f, const struct play_event *ev, int32_t partition,
                       int64_t offset, int64_t ingest_us, struct ts_err *err);

/* Writes the file: makes its writer (and its batch's staging folder in a
 * local lake), hands it the rows, block by block, freeing each, and writes
 * the footer, at the staging name (local; not yet durable:
 * ingest_files_sync) or uploaded to it (S3). */
int ingest_file_close(struct ingest_file *f, const struct ingest_lake *lake, struct ts_err *err);

/* Makes a batch's closed files durable in a local lake (nothing to do in an
 * object store): their data, then their staging folder (they share it). */
int ingest_files_sync(const struct ingest_file *files, int n, const struct ingest_lake *lake,
                      struct ts_err *err);

/* Drops an unfinished file. */
void ingest_file_abort(struct ingest_file *f);

/* The published key of f for a batch ending at last. */
void ingest_file_final_key(const struct ingest_file *f, const char *topic, int32_t partition,
                           int64_t first, int64_t last, char *out, size_t size);

#endif
