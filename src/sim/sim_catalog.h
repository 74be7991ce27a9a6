/*
 * The simulated song catalog. Song i's title, artist, genre and duration
 * depend only on the catalog seed and on songs 0 ... i, so a larger catalog
 * with the same seed extends a smaller one, storage is 8 bytes a song
 * (artist and duration; names are made on demand), and the file written by
 * `topsongs simulate --catalog` matches the plays of every later run with
 * the same catalog seed and song count.
 *
 * Song ids are "s" and a zero-padded index ("s000123"). A catalog is
 * read-only after sim_catalog_new, so threads may share it.
 */
#ifndef SIM_SIM_CATALOG_H
#define SIM_SIM_CATALOG_H

#include <stdint.h>
#include <stdio.h>

#include "base/error.h"

#define SIM_CATALOG_MAX_SONGS 1000000
#define SIM_SONG_ID_SIZE      16
#define SIM_SONG_TEXT_SIZE    96

struct sim_song {
	char id[SIM_SONG_ID_SIZE];
	char title[SIM_SONG_TEXT_SIZE];
	char artist[SIM_SONG_TEXT_SIZE];
	const char *genre; /* static string */
	int32_t duration_ms;
};

struct sim_catalog;

/* 1 <= nsongs <= SIM_CATALOG_MAX_SONGS. Returns 0, TS_EINVAL or TS_ENOMEM;
 * on success *out is the caller's, freed with sim_catalog_free. */
int sim_catalog_new(uint64_t seed, uint32_t nsongs, struct sim_catalog **out, struct ts_err *err);
void sim_catalog_free(struct sim_catalog *c);

uint32_t sim_catalog_size(const struct sim_catalog *c);
uint64_t sim_catalog_seed(const struct sim_catalog *c);

/* Describes song i (< size) into *out. */
void sim_catalog_song(const struct sim_catalog *c, uint32_t i, struct sim_song *out);

/* The id of song i into out[SIM_SONG_ID_SIZE]; cheaper than a full song. */
void sim_catalog_song_id(uint32_t i, char *out);

/* The genre of song i (a static string); cheaper than a full song. */
const char *sim_catalog_genre(const struct sim_catalog *c, uint32_t i);

/* The full duration of song i in milliseconds. */
int32_t sim_catalog_duration_ms(const struct sim_catalog *c, uint32_t i);

/* Writes the catalog as CSV (RFC 4180 quoting), header
 * "id,title,artist,genre,duration_ms". Returns 0 or TS_EIO. */
int sim_catalog_write_csv(const struct sim_catalog *c, FILE *f, struct ts_err *err);

#endif
