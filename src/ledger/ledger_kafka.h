/*
 * Kafka's end offsets for the ledger: a librdkafka handle that sends
 * nothing and asks the brokers, every time (no cache: the ledger must read
 * them after the api's counts, see ledger.c), for the high watermark of
 * every partition of the plays topic. Each question is bounded by
 * LEDGER_KAFKA_TIMEOUT_MS; a broker outage is an error, which the ledger
 * reports as "lag unknown".
 *
 * Threads: one at a time per handle (the api serialises its ledger).
 */
#ifndef LEDGER_LEDGER_KAFKA_H
#define LEDGER_LEDGER_KAFKA_H

#include <stdint.h>

#include "base/config.h"
#include "base/error.h"

#define LEDGER_KAFKA_TIMEOUT_MS 3000

struct ledger_kafka;

/* cfg must outlive it; connects on the first question. */
int ledger_kafka_new(const struct ts_config *cfg, struct ledger_kafka **out, struct ts_err *err);
/* NULL is a no-op. */
void ledger_kafka_free(struct ledger_kafka *k);

/* A ledger_watermarks_fn: arg is the struct ledger_kafka. */
int ledger_kafka_watermarks(void *arg, int64_t *hw, int max, int *n, struct ts_err *err);

#endif
