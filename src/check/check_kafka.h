/*
 * The Kafka probe of `topsongs check`: a throw-away librdkafka producer
 * handle on kafka.brokers (with the security and SASL settings when set)
 * asks for the cluster metadata within the timeout, giving up early once
 * every bootstrap broker has failed. Ok when a broker
 * answers; the reason then says how many brokers there are and whether
 * kafka.topic exists (a missing topic is not a failure: the broker creates
 * it on the first produce when auto-creation is on). On failure the reason
 * is the first error librdkafka reported, condensed ("connection refused at
 * 127.0.0.1:9092"); librdkafka's own logging is captured, never printed.
 * The SASL password is scrubbed from every reason. Thread-safe.
 */
#ifndef CHECK_CHECK_KAFKA_H
#define CHECK_CHECK_KAFKA_H

#include <stddef.h>
#include <stdint.h>

#include "base/config.h"
#include "check/check_result.h"

int check_kafka_probe(const struct ts_config *cfg, int64_t timeout_ms, struct check_result *out);

/*
 * Condenses one librdkafka error or log line into a reason:
 *   "127.0.0.1:1/bootstrap: Connect to ipv4#127.0.0.1:1 failed: Connection
 *    refused (after 0ms in state CONNECT)" -> "connection refused at 127.0.0.1:1"
 *   "h:9092/bootstrap: Failed to resolve 'h:9092': Name or service not known
 *    (after 2ms in state CONNECT)" -> "cannot resolve h:9092: Name or service not known"
 * Anything else keeps its text without the broker prefix and "(after ...)".
 */
void check_kafka_condense(const char *msg, char *out, size_t size);

#endif
