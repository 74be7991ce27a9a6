/*
 * Unit tests of check/check_kafka that need no broker: condensing
 * librdkafka's errors, and the probe against a closed port.
 */
#include "tests/unit/test.h"

#include "base/config.h"
#include "base/timeutil.h"
#include "check/check_kafka.h"

static void condense(const char *msg, const char *want)
{
	char out[CHECK_TEXT_MAX];

	check_kafka_condense(msg, out, sizeof(out));
	CHECK_STR(out, want);
}

TEST(check_kafka_condense_refused)
{
	condense("127.0.0.1:1/bootstrap: Connect to ipv4#127.0.0.1:1 failed: Connection refused "
	         "(after 0ms in state CONNECT)",
	         "connection refused at 127.0.0.1:1");
	condense("[thrd:127.0.0.1:1/bootstrap]: 127.0.0.1:1/bootstrap: Connect to "
	         "ipv4#127.0.0.1:1 failed: Connection refused (after 0ms in state CONNECT)",
	         "connection refused at 127.0.0.1:1");
}

TEST(check_kafka_condense_resolve)
{
	condense("nohost:9092/bootstrap: Failed to resolve 'nohost:9092': Name or service not "
	         "known (after 2ms in state CONNECT)",
	         "cannot resolve nohost:9092: Name or service not known");
}

TEST(check_kafka_condense_not_kafka)
{
	char out[CHECK_TEXT_MAX];

	check_kafka_condense("127.0.0.1:5432/bootstrap: Receive failed: Invalid response size "
	                     "1157627904 (0..100000000): increase receive.message.max.bytes",
	                     out, sizeof(out));
	CHECK(!strncmp(out, "no Kafka broker at 127.0.0.1:5432:", 34));
}

TEST(check_kafka_condense_sasl_names_broker)
{
	condense("[thrd:sasl_ssl://k1:9093/bootstrap]: sasl_ssl://k1:9093/bootstrap: SASL "
	         "authentication error: Authentication failed (after 5ms in state AUTH_REQ)",
	         "SASL authentication error: Authentication failed at k1:9093");
	condense("1/1 brokers are down", "1/1 brokers are down");
}

TEST(check_kafka_probe_closed_port)
{
	struct ts_config cfg;
	struct check_result r;
	int64_t t0 = time_mono_us();

	config_init(&cfg);
	REQUIRE(config_set(&cfg, "kafka.brokers", "127.0.0.1:1", "test", NULL) == 0);
	REQUIRE(config_set(&cfg, "kafka.sasl-password", "kpw", "test", NULL) == 0);
	memset(&r, 0, sizeof(r));
	/* Refused everywhere: it gives up long before the 10 s timeout. */
	CHECK(check_kafka_probe(&cfg, 10000, &r) < 0);
	CHECK(time_mono_us() - t0 < 3000 * 1000);
	CHECK_INT(r.status, CHECK_FAILED);
	CHECK_STR(r.target, "127.0.0.1:1");
	CHECK_STR(r.reason, "connection refused at 127.0.0.1:1");
	config_release(&cfg);
}
