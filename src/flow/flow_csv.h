/*
 * A streaming reader of the song catalog CSV (RFC 4180): records of
 * `song_id,title,artist,genre[,duration_ms]`, fields optionally quoted with
 * '"' (a quote inside a quoted field is doubled; quoted fields may hold
 * commas and line breaks), records ending in LF or CRLF. An optional header
 * record whose first field is "song_id" or "id" is skipped, and so are blank
 * lines.
 *
 * Input is pushed in chunks of any size (flow_csv_feed, then
 * flow_csv_finish); each complete record is checked and handed to a
 * callback. Memory is one record of at most FLOW_CSV_RECORD_MAX bytes,
 * whatever the file's size.
 *
 * Errors (TS_EINVAL, or whatever the callback returns) name the line where
 * the bad record starts: "line 12: 3 fields, expected 4 or 5
 * (song_id,title,artist,genre[,duration_ms])". After an error the reader
 * only fails.
 */
#ifndef FLOW_FLOW_CSV_H
#define FLOW_FLOW_CSV_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define FLOW_CSV_RECORD_MAX 8192 /* bytes of one record, separators excluded */
#define FLOW_CSV_ID_MAX     64   /* bytes of a song_id */
#define FLOW_CSV_TEXT_MAX   1024 /* bytes of a title, artist or genre */

/* One checked record: every string non-empty, valid UTF-8, no control
 * characters in song_id. Valid until the callback returns. */
struct flow_csv_song {
	const char *song_id, *title, *artist, *genre;
	int has_duration;
	int32_t duration_ms; /* >= 0 */
	long line;           /* where the record starts, from 1 */
};

/* Returns 0 to go on, or a TS_E* code (with err set) to stop. */
typedef int (*flow_csv_fn)(const struct flow_csv_song *s, void *arg, struct ts_err *err);

#define FLOW_CSV_MAX_FIELDS 5

struct flow_csv {
	flow_csv_fn fn;
	void *arg;
	int state;
	int failed;
	int seen_first; /* a record (or the header) was read */
	long line, record_line;
	long records; /* records handed to fn */
	int nfields;
	size_t len;
	uint16_t start[FLOW_CSV_MAX_FIELDS + 1];
	char buf[FLOW_CSV_RECORD_MAX + FLOW_CSV_MAX_FIELDS + 1];
};

void flow_csv_init(struct flow_csv *p, flow_csv_fn fn, void *arg);
int flow_csv_feed(struct flow_csv *p, const char *data, size_t len, struct ts_err *err);
/* Ends the input (a last record without a line break is fine). */
int flow_csv_finish(struct flow_csv *p, struct ts_err *err);

#endif
