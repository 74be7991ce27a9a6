/*
 * The refiller: a thread of ingest that gets librdkafka's fetcher going
 * again before the prefetch queue runs dry, without dropping anything
 * queued (docs/ingest.md, "Refilling the queue").
 *
 * librdkafka 2.0 stops fetching once the prefetch queue is full and looks
 * again only when its broker thread next wakes. Any request queued for
 * that broker wakes it; the refiller sends one that changes nothing: a
 * watermark query (ListOffsets) for a partition of the topic. A seek
 * would wake it too, but drops the partition's queued records and its
 * fetch in flight, so the seek (wake_fetcher in ingest.c) is kept for an
 * empty queue only.
 *
 * Threads: every function is called from ingest's main thread; the query
 * itself runs on the refiller's thread, so the main thread never waits
 * for the broker's answer.
 */
#ifndef INGEST_INGEST_REFILL_H
#define INGEST_INGEST_REFILL_H

#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "base/error.h"

struct ingest_refill;

/* Starts the thread for consumer (which must outlive it) on topic, a
 * string that must outlive it too; *count is incremented for each query
 * sent. Returns 0, or TS_ENOMEM when the thread cannot start. */
int ingest_refill_new(rd_kafka_t *consumer, const char *topic, _Atomic int64_t *count,
                      struct ingest_refill **out, struct ts_err *err);

/* Asks for one query about partition, unless one is already asked for
 * (then this one is folded into it). Never blocks on the broker. */
void ingest_refill_ask(struct ingest_refill *r, int32_t partition);

/* Stops the thread, after the query in flight if any (at most its
 * timeout, 500 ms), and frees r. ingest_refill_free(NULL) is a no-op. */
void ingest_refill_free(struct ingest_refill *r);

#endif
