/*
 * GET /metrics of a running ingest (Prometheus text format), on its own
 * small libmicrohttpd server at ingest.metrics-listen. It reads the
 * counters of struct ingest_stats, which the ingest thread updates.
 */
#ifndef INGEST_INGEST_METRICS_H
#define INGEST_INGEST_METRICS_H

#include "base/error.h"
#include "ingest/ingest.h"

struct ingest_metrics;

/* listen is "HOST:PORT" (port 0: any free port). stats must outlive the
 * server. */
int ingest_metrics_start(const char *listen, struct ingest_stats *stats,
                         struct ingest_metrics **out, struct ts_err *err);
int ingest_metrics_port(const struct ingest_metrics *m);
/* NULL is a no-op. */
void ingest_metrics_stop(struct ingest_metrics *m);

#endif
