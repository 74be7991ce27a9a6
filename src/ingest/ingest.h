/*
 * `topsongs ingest`: a member of the consumer group ingest.group on
 * kafka.topic, filing every record exactly once into the raw lake by event
 * time (see ingest_commit.h for how). Records it cannot file go to the
 * dead-letter topic with the reason in a header.
 *
 * Threads: ingest_run polls the consumer and writes on the calling thread
 * until *stop becomes non-zero; threads of its own write the files and
 * commit (ingest_committer.h).
 */
#ifndef INGEST_INGEST_H
#define INGEST_INGEST_H

#include <stdint.h>

#include "base/config.h"
#include "base/error.h"

/* Counters, updated by the ingest threads and read by the metrics thread. */
struct ingest_stats {
	_Atomic int64_t records;        /* consumed */
	_Atomic int64_t rows;           /* committed to the lake */
	_Atomic int64_t dead;           /* sent to the dead-letter topic */
	_Atomic int64_t late;           /* rows committed into hours already closed */
	_Atomic int64_t commits;        /* batches committed */
	_Atomic int64_t files;          /* files committed */
	_Atomic int64_t bytes;          /* bytes of files committed */
	_Atomic int64_t commit_us;      /* time spent writing, committing, publishing */
	_Atomic int64_t lag;            /* records behind the partitions' high watermarks */
	_Atomic int64_t compacted;      /* hours compacted */
	_Atomic int64_t restarts;       /* restarts after a service was unavailable */
	_Atomic int64_t fetch_wakeups;  /* partitions sought to wake the fetcher */
	_Atomic int64_t fetch_refills;  /* queries sent to wake it with records queued */
	_Atomic int64_t backlog_seals;  /* batches sealed once a backlog was worked off */
	_Atomic int64_t last_commit_us; /* wall clock of the last batch published; 0 = none */
};

/* Returns 0 after a clean stop
 * (every batch committed), or an error — in which case nothing uncommitted
 * is visible and a restart resumes from the last commit. While PostgreSQL,
 * the object store or the dead-letter topic is unavailable (TS_EUNAVAIL),
 * the job restarts itself, as a supervisor would, for up to
 * ingest.unavailable-retry-s of one outage. */
int ingest_run(const struct ts_config *cfg, volatile int *stop, struct ingest_stats *stats,
               struct ts_err *err);

#endif
