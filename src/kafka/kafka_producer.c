/*
 * librdkafka producer set-up and its poll thread. Broker reachability is
 * tracked from error callbacks (all brokers down) and re-probed with a
 * metadata request every second while it is down, so readiness recovers even
 * when no traffic arrives.
 */
#include "base/common.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "kafka/kafka_producer.h"

#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdatomic.h>

struct kafka_producer {
	rd_kafka_t *rk;
	rd_kafka_topic_t *topic;
	kafka_delivery_cb on_delivery;
	pthread_t poller;
	atomic_int stop;
	atomic_int brokers_down;
	atomic_int fatal;
};

static void on_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct kafka_producer *p = opaque;
	int rc = 0;

	(void)rk;
	if (m->err) {
		rc = m->err == RD_KAFKA_RESP_ERR__MSG_TIMED_OUT ? TS_ETIMEDOUT : TS_EUNAVAIL;
		log_warn("delivery failed", "error=\"%s\"", rd_kafka_err2str(m->err));
	} else {
		atomic_store(&p->brokers_down, 0);
	}
	p->on_delivery(m->_private, rc);
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	struct kafka_producer *p = opaque;
	char buf[256];

	if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
		atomic_store(&p->brokers_down, 1);
	if (err == RD_KAFKA_RESP_ERR__FATAL) {
		rd_kafka_fatal_error(rk, buf, sizeof(buf));
		atomic_store(&p->fatal, 1);
		log_error("kafka producer fatal error", "reason=\"%s\"", buf);
		return;
	}
	log_warn("kafka", "error=\"%s\" reason=\"%s\"", rd_kafka_err2name(err), reason);
}

static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	(void)rk;
	if (level <= 4)
		log_warn("librdkafka", "facility=%s %s", fac, buf);
}

static void *poll_loop(void *arg)
{
	struct kafka_producer *p = arg;
	int64_t next_probe = 0;

	while (!atomic_load(&p->stop)) {
		rd_kafka_poll(p->rk, 50);
		if (atomic_load(&p->brokers_down) && time_mono_us() >= next_probe) {
			const struct rd_kafka_metadata *md = NULL;

			if (rd_kafka_metadata(p->rk, 0, p->topic, &md, 1000) ==
			    RD_KAFKA_RESP_ERR_NO_ERROR) {
				atomic_store(&p->brokers_down, 0);
				rd_kafka_metadata_destroy(md);
			}
			next_probe = time_mono_us() + TIME_US_PER_SEC;
		}
	}
	return NULL;
}

int kafka_conf_set(rd_kafka_conf_t *conf, const char *name, const char *value, struct ts_err *err)
{
	char errstr[512];

	if (rd_kafka_conf_set(conf, name, value, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK)
		return ts_err_set(err, TS_EINVAL, "kafka setting %s: %s", name, errstr);
	return 0;
}

int kafka_conf_set_int(rd_kafka_conf_t *conf, const char *name, long long v, struct ts_err *err)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lld", v);
	return kafka_conf_set(conf, name, buf, err);
}

int kafka_conf_connection(rd_kafka_conf_t *conf, const struct ts_config *cfg, struct ts_err *err)
{
	int rc = kafka_conf_set(conf, "bootstrap.servers", cfg->kafka_brokers, err);

	rc = rc ? rc : kafka_conf_set(conf, "security.protocol", cfg->kafka_security_protocol, err);
	if (!rc && cfg->kafka_sasl_mechanism[0]) {
		rc = kafka_conf_set(conf, "sasl.mechanisms", cfg->kafka_sasl_mechanism, err);
		rc = rc ? rc : kafka_conf_set(conf, "sasl.username", cfg->kafka_sasl_username, err);
		rc = rc ? rc : kafka_conf_set(conf, "sasl.password", cfg->kafka_sasl_password, err);
	}
	return rc;
}

static int configure(rd_kafka_conf_t *conf, const struct ts_config *cfg, struct ts_err *err)
{
	int rc = kafka_conf_connection(conf, cfg, err);

	rc = rc ? rc : kafka_conf_set(conf, "client.id", "topsongs-api", err);
	rc = rc ? rc : kafka_conf_set(conf, "enable.idempotence", "true", err);
	rc = rc ? rc : kafka_conf_set(conf, "acks", "all", err);
	rc = rc ? rc : kafka_conf_set(conf, "compression.type", cfg->kafka_compression, err);
	rc = rc ? rc : kafka_conf_set_int(conf, "linger.ms", cfg->kafka_linger_ms, err);
	rc =
	    rc ? rc
	       : kafka_conf_set_int(conf, "message.timeout.ms", cfg->kafka_produce_timeout_ms, err);
	rc = rc ? rc
	        : kafka_conf_set_int(conf, "queue.buffering.max.messages",
	                             cfg->kafka_queue_max_messages, err);
	rc = rc ? rc : kafka_conf_set(conf, "queue.buffering.max.kbytes", "262144", err);
	rc = rc ? rc : kafka_conf_set(conf, "batch.num.messages", "10000", err);
	return rc ? rc : kafka_conf_set(conf, "partitioner", "murmur2_random", err);
}

int kafka_producer_new(const struct ts_config *cfg, kafka_delivery_cb on_delivery,
                       struct kafka_producer **out, struct ts_err *err)
{
	struct kafka_producer *p = calloc(1, sizeof(*p));
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char errstr[512];
	int rc = 0;

	if (!p || !conf) {
		rc = ts_err_set(err, TS_ENOMEM, "out of memory");
		goto out;
	}
	p->on_delivery = on_delivery;
	rc = configure(conf, cfg, err);
	if (rc)
		goto out;
	rd_kafka_conf_set_opaque(conf, p);
	rd_kafka_conf_set_dr_msg_cb(conf, on_dr);
	rd_kafka_conf_set_error_cb(conf, on_error);
	rd_kafka_conf_set_log_cb(conf, on_log);
	p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	if (!p->rk) {
		rc = ts_err_set(err, TS_EINVAL, "kafka: %s", errstr);
		goto out;
	}
	conf = NULL; /* owned by rk now */
	p->topic = rd_kafka_topic_new(p->rk, cfg->kafka_topic, NULL);
	if (!p->topic || pthread_create(&p->poller, NULL, poll_loop, p)) {
		rc = ts_err_set(err, TS_ENOMEM, "kafka: cannot create topic handle or poll thread");
		goto out;
	}
	*out = p;
	return 0;
out:
	if (conf)
		rd_kafka_conf_destroy(conf);
	if (p && p->topic)
		rd_kafka_topic_destroy(p->topic);
	if (p && p->rk)
		rd_kafka_destroy(p->rk);
	free(p);
	return rc;
}

int kafka_producer_send(struct kafka_producer *p, const char *key, size_t key_len,
                        const char *value, size_t value_len, void *msg_opaque)
{
	if (atomic_load(&p->fatal))
		return TS_EUNAVAIL;
	if (rd_kafka_produce(p->topic, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, (void *)value,
	                     value_len, key, key_len, msg_opaque) == -1)
		return TS_EUNAVAIL;
	return 0;
}

int kafka_producer_queue_len(struct kafka_producer *p)
{
	return rd_kafka_outq_len(p->rk);
}

int kafka_producer_ready(struct kafka_producer *p)
{
	return !atomic_load(&p->fatal) && !atomic_load(&p->brokers_down);
}

int kafka_producer_flush(struct kafka_producer *p, int timeout_ms)
{
	/* The poll thread keeps serving callbacks while rd_kafka_flush waits. */
	return rd_kafka_flush(p->rk, timeout_ms) == RD_KAFKA_RESP_ERR_NO_ERROR ? 0 : TS_ETIMEDOUT;
}

void kafka_producer_purge(struct kafka_producer *p)
{
	rd_kafka_purge(p->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
	/* The poll thread serves the purged records' callbacks; wait for them. */
	for (int i = 0; i < 100 && rd_kafka_outq_len(p->rk) > 0; i++)
		rd_kafka_poll(p->rk, 10);
}

void kafka_producer_free(struct kafka_producer *p)
{
	if (!p)
		return;
	atomic_store(&p->stop, 1);
	pthread_join(p->poller, NULL);
	rd_kafka_purge(p->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
	rd_kafka_poll(p->rk, 0);
	rd_kafka_topic_destroy(p->topic);
	rd_kafka_destroy(p->rk);
	free(p);
}
