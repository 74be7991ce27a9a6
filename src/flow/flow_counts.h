/*
 * Plays per (region, hour, song) of one aggregate batch, counted in memory:
 * PostgreSQL gets sums, never a row per play (with a database collation such
 * as C.UTF-8, PostgreSQL 15 compares text through strcoll, which made
 * grouping a 10-million-play back-fill take minutes; docs/benchmarks.md).
 * Every file's plays also count for region ALL.
 *
 * Usage: flow_counts_init; per file flow_counts_file, flow_counts_add for
 * each song, flow_counts_end_file. Then ents[] holds, file after file, one
 * entry per (group, song) of each file — a group (region, hour) with several
 * files has several entries per song, which the reader sums. Groups and
 * songs are numbered in the order first seen. Single-threaded; owns
 * everything but the region and hour strings, which the caller keeps alive
 * until release.
 */
#ifndef FLOW_FLOW_COUNTS_H
#define FLOW_FLOW_COUNTS_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "flow/flow_hash.h"

struct flow_counts_group {
	const char *region, *hour; /* the caller's */
};

/* key: group index << 32 | song index (into groups[] and songs[]). */
struct flow_counts_ent {
	uint64_t key, plays;
};

struct flow_counts_song {
	char *s; /* owned copy */
	uint32_t len;
};

struct flow_counts {
	struct flow_hash index; /* song bytes -> song index */
	struct flow_counts_song *songs;
	size_t nsongs, capsongs;
	struct flow_counts_group *groups;
	size_t ngroups, capgroups;
	struct flow_counts_ent *ents;
	size_t nents, capents;
	uint64_t *file;    /* per song: plays in the current file */
	uint32_t *touched; /* songs with file[] != 0, in first-seen order */
	size_t ntouched, capfile;
	uint32_t group, all; /* of the current file */
};

void flow_counts_init(struct flow_counts *c);
void flow_counts_release(struct flow_counts *c);

/* Starts a file whose plays belong to (region, hour) and (ALL, hour). */
int flow_counts_file(struct flow_counts *c, const char *region, const char *hour,
                     struct ts_err *err);
/* n more plays of song s[0..len) in the current file. */
int flow_counts_add(struct flow_counts *c, const void *s, size_t len, uint64_t n,
                    struct ts_err *err);
/* Ends the current file: its counts become entries, the group's and ALL's,
 * in the order the file's songs were first seen. */
int flow_counts_end_file(struct flow_counts *c, struct ts_err *err);

/* A chart's songs: the FLOW_TOP_N with the most plays, ties going to the
 * smaller song_id in byte order (songs[] gives the bytes; the order of
 * PostgreSQL's COLLATE "C"). Start from {0} and offer each (song, plays)
 * once; song[0..n) is then in rank order. */
#define FLOW_TOP_N 10

struct flow_top {
	uint32_t song[FLOW_TOP_N];
	uint64_t plays[FLOW_TOP_N];
	int n;
};

void flow_top_offer(struct flow_top *t, const struct flow_counts_song *songs, uint32_t song,
                    uint64_t plays);

#endif
