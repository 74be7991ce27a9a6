/*
 * `topsongs ingest`: a member of the consumer group ingest.group on
 * kafka.topic, filing every record exactly once into the raw lake by event
 * time (see ingest_commit.h for how). Records it cannot file go to the
 * dead-letter topic with the reason in a header.
 *
 * Single-threaded: ingest_run polls the consumer, writes, and commits on
 * the calling thread until *stop becomes non-zero.
 */
#ifndef INGEST_INGEST_H
#define INGEST_INGEST_H

#include <stdint.h>

#include "base/config.h"
#include "base/error.h"

struct ingest_stats {
	int64_t records; /* consumed */
	int64_t rows;    /* committed to the lake */
	int64_t dead;    /* sent to the dead-letter topic */
	int64_t commits; /* batches committed */
	int64_t files;   /* files committed */
};

/* The lake must be a local folder for now. Returns 0 after a clean stop
 * (every batch committed), or an error — in which case nothing uncommitted
 * is visible and a restart resumes from the last commit. */
int ingest_run(const struct ts_config *cfg, volatile int *stop, struct ingest_stats *stats,
               struct ts_err *err);

#endif
