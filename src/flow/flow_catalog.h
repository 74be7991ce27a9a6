/*
 * Loading the song catalog into the `songs` table (migration 4): from a CSV
 * file (flow_csv.h) or straight from the simulator's catalog (seed and
 * size, sim_catalog.h). Rows go through COPY into a temporary table, then
 * one upsert, all in one transaction: a file with a bad record changes
 * nothing, and its error names the line. A song_id given twice keeps its
 * last record. Memory is bounded by one COPY chunk, whatever the size.
 */
#ifndef FLOW_FLOW_CATALOG_H
#define FLOW_FLOW_CATALOG_H

#include <stdint.h>
#include <stdio.h>

#include "base/error.h"

struct db;

/* Loads CSV from f (name is used in messages); *songs gets the records read. */
int flow_catalog_load_csv(struct db *db, FILE *f, const char *name, int64_t *songs,
                          struct ts_err *err);

/* Loads the simulator's catalog of nsongs songs made from seed. */
int flow_catalog_load_sim(struct db *db, uint64_t seed, uint32_t nsongs, int64_t *songs,
                          struct ts_err *err);

#endif
