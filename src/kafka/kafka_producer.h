/*
 * The play producer: a librdkafka idempotent producer (acks=all, compressed,
 * batched) with its own poll thread that delivers acknowledgements to a
 * callback. This is what makes "202 means durable" true: the api answers
 * only from that callback.
 *
 * Threads: kafka_producer_send may be called from any thread. The delivery
 * callback runs on the producer's poll thread, exactly once per message that
 * kafka_producer_send accepted, with rc 0 (acknowledged by all in-sync
 * replicas) or a negative TS_E* code (not acknowledged within
 * kafka.produce-timeout-ms, or a permanent broker error).
 */
#ifndef KAFKA_KAFKA_PRODUCER_H
#define KAFKA_KAFKA_PRODUCER_H

#include <stddef.h>

#include <librdkafka/rdkafka.h>

#include "base/config.h"
#include "base/error.h"

struct kafka_producer;

/* One librdkafka setting; TS_EINVAL with librdkafka's reason otherwise. */
int kafka_conf_set(rd_kafka_conf_t *conf, const char *name, const char *value, struct ts_err *err);
/* The same for an integer setting. */
int kafka_conf_set_int(rd_kafka_conf_t *conf, const char *name, long long v, struct ts_err *err);

/* The settings every client of ours shares: brokers, security, SASL. */
int kafka_conf_connection(rd_kafka_conf_t *conf, const struct ts_config *cfg, struct ts_err *err);

/* Called once per accepted message, on the poll thread. */
typedef void (*kafka_delivery_cb)(void *msg_opaque, int rc);

/* Creates the producer for cfg->kafka_topic. The producer does not keep cfg.
 * Returns 0, or TS_EINVAL for a configuration librdkafka refuses. */
int kafka_producer_new(const struct ts_config *cfg, kafka_delivery_cb on_delivery,
                       struct kafka_producer **out, struct ts_err *err);

/*
 * Enqueues one record (key and value are copied). Returns 0 — and the
 * delivery callback will run later — or TS_EUNAVAIL when the local queue is
 * full or the producer hit a fatal error; then no callback runs.
 */
int kafka_producer_send(struct kafka_producer *p, const char *key, size_t key_len,
                        const char *value, size_t value_len, void *msg_opaque);

/* Messages enqueued and not yet acknowledged or failed. */
int kafka_producer_queue_len(struct kafka_producer *p);

/* 1 when at least one broker answered recently and no fatal error occurred. */
int kafka_producer_ready(struct kafka_producer *p);

/* Waits up to timeout_ms for every queued message to be delivered or failed.
 * Returns 0 or TS_ETIMEDOUT. */
int kafka_producer_flush(struct kafka_producer *p, int timeout_ms);

/* Fails every record still queued or in flight through its callback
 * (TS_EUNAVAIL). The producer stays usable for kafka_producer_free. */
void kafka_producer_purge(struct kafka_producer *p);

/* Stops the poll thread and destroys the handle; NULL is a no-op. Call after
 * kafka_producer_flush: messages still queued are failed through the callback. */
void kafka_producer_free(struct kafka_producer *p);

#endif
