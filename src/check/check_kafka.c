/*
 * The Kafka probe; see check_kafka.h.
 */
#include "base/common.h"
#include "base/error.h"
#include "base/timeutil.h"
#include "check/check_kafka.h"

#include <ctype.h>
#include <librdkafka/rdkafka.h>
#include <pthread.h>

/* The first error librdkafka reported, from its own threads. */
struct kafka_capture {
	pthread_mutex_t mu;
	char first[CHECK_TEXT_MAX];
	char all_down[CHECK_TEXT_MAX]; /* "1/1 brokers are down": a last resort */
};

static void capture(struct kafka_capture *c, const char *msg)
{
	int down = strstr(msg, "brokers are down") != NULL;

	pthread_mutex_lock(&c->mu);
	if (down && !c->all_down[0])
		snprintf(c->all_down, sizeof(c->all_down), "%s", msg);
	else if (!down && !c->first[0])
		snprintf(c->first, sizeof(c->first), "%s", msg);
	pthread_mutex_unlock(&c->mu);
}

static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	struct kafka_capture *c = rd_kafka_opaque(rk);

	(void)fac;
	if (c && level <= 3) /* LOG_ERR and worse */
		capture(c, buf);
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	(void)rk;
	(void)err;
	capture(opaque, reason);
}

/* Drops "[thrd:NAME]: " and "host:port/bootstrap: " (a broker name ends in
 * "/bootstrap" or "/<id>"), as log lines and error events start with them,
 * keeping the last broker's "host:port" in broker. */
static const char *skip_broker_prefix(const char *s, char *broker, size_t size)
{
	for (int i = 0; i < 2; i++) {
		const char *colon = strstr(s, ": ");
		const char *slash = colon ? memrchr(s, '/', (size_t)(colon - s)) : NULL;
		const char *name = s, *scheme;

		if (!slash || memchr(s, ' ', (size_t)(colon - s)))
			break;
		/* "sasl_ssl://host:port/bootstrap" */
		scheme = memmem(s, (size_t)(slash - s), "://", 3);
		if (scheme)
			name = scheme + 3;
		if (s[0] != '[')
			snprintf(broker, size, "%.*s", (int)(slash - name), name);
		s = colon + 2;
	}
	return s;
}

/* The text after the prefix, as a reason. */
static void rewrite(char *text, const char *broker, char *out, size_t size)
{
	char *cut, *p;

	if (!strncmp(text, "Connect to ", 11) && (cut = strstr(text, " failed: "))) {
		*cut = '\0';
		p = strchr(text, '#') ? strchr(text, '#') + 1 : text + 11;
		snprintf(out, size, "%s at %s", cut + 9, p);
	} else if (!strncmp(text, "Failed to resolve '", 19) && (cut = strstr(text, "': "))) {
		*cut = '\0';
		snprintf(out, size, "cannot resolve %s: %s", text + 19, cut + 3);
	} else if (strstr(text, "Invalid response size")) {
		snprintf(out, size,
		         "no Kafka broker at %s: its answer is not Kafka's protocol (wrong port? "
		         "a TLS listener needing kafka.security-protocol=ssl?)",
		         broker[0] ? broker : "the bootstrap address");
	} else {
		snprintf(out, size, "%s%s%s", text, broker[0] ? " at " : "", broker);
	}
}

void check_kafka_condense(const char *msg, char *out, size_t size)
{
	char text[CHECK_TEXT_MAX], broker[CHECK_TEXT_MAX] = "", *cut;

	snprintf(text, sizeof(text), "%s", skip_broker_prefix(msg, broker, sizeof(broker)));
	if ((cut = strstr(text, " (after ")))
		*cut = '\0';
	cut = text + strlen(text);
	while (cut > text && (cut[-1] == ' ' || cut[-1] == ':'))
		*--cut = '\0';
	rewrite(text, broker, out, size);
	if (isupper((unsigned char)out[0]) && islower((unsigned char)out[1]))
		out[0] = (char)tolower((unsigned char)out[0]);
	check_result_oneline(out);
}

static int set(rd_kafka_conf_t *conf, const char *key, const char *val, char *errstr, size_t size)
{
	if (!val || !val[0])
		return 0;
	return rd_kafka_conf_set(conf, key, val, errstr, size) == RD_KAFKA_CONF_OK ? 0 : TS_EINVAL;
}

static int build_conf(const struct ts_config *cfg, int64_t timeout_ms, rd_kafka_conf_t *conf,
                      char *errstr, size_t size)
{
	char setup_ms[32];
	int rc = 0;

	/* librdkafka's floor for the connection set-up timeout is 1000 ms. */
	snprintf(setup_ms, sizeof(setup_ms), "%lld",
	         (long long)(timeout_ms < 1000 ? 1000 : timeout_ms));
	rc = rc ? rc : set(conf, "bootstrap.servers", cfg->kafka_brokers, errstr, size);
	rc = rc ? rc : set(conf, "client.id", "topsongs-check", errstr, size);
	rc = rc ? rc : set(conf, "log_level", "3", errstr, size);
	rc = rc ? rc : set(conf, "socket.connection.setup.timeout.ms", setup_ms, errstr, size);
	rc = rc ? rc : set(conf, "security.protocol", cfg->kafka_security_protocol, errstr, size);
	rc = rc ? rc : set(conf, "sasl.mechanisms", cfg->kafka_sasl_mechanism, errstr, size);
	rc = rc ? rc : set(conf, "sasl.username", cfg->kafka_sasl_username, errstr, size);
	rc = rc ? rc : set(conf, "sasl.password", cfg->kafka_sasl_password, errstr, size);
	return rc;
}

static int topic_partitions(const struct rd_kafka_metadata *md, const char *topic)
{
	for (int i = 0; i < md->topic_cnt; i++)
		if (!strcmp(md->topics[i].topic, topic))
			return md->topics[i].err ? -1 : md->topics[i].partition_cnt;
	return -1;
}

static int report_ok(const struct ts_config *cfg, const struct rd_kafka_metadata *md,
                     struct check_result *out)
{
	int parts = topic_partitions(md, cfg->kafka_topic);
	int nb = md->broker_cnt;

	if (parts >= 0)
		return check_result_ok(out, "%d broker%s; topic \"%s\" exists (%d partition%s)", nb,
		                       nb == 1 ? "" : "s", cfg->kafka_topic, parts,
		                       parts == 1 ? "" : "s");
	return check_result_ok(out,
	                       "%d broker%s; topic \"%s\" does not exist yet: the broker "
	                       "creates it on the first produce when auto.create.topics.enable "
	                       "is on, otherwise create it",
	                       nb, nb == 1 ? "" : "s", cfg->kafka_topic);
}

static int report_fail(const struct ts_config *cfg, rd_kafka_resp_err_t err,
                       struct kafka_capture *c, int64_t timeout_ms, struct check_result *out)
{
	char first[CHECK_TEXT_MAX], why[CHECK_TEXT_MAX];

	pthread_mutex_lock(&c->mu); /* broker threads may still be logging */
	snprintf(first, sizeof(first), "%s", c->first[0] ? c->first : c->all_down);
	pthread_mutex_unlock(&c->mu);
	if (first[0]) {
		check_kafka_condense(first, why, sizeof(why));
		return check_result_fail(out, TS_EUNAVAIL, "%s", why);
	}
	if (err == RD_KAFKA_RESP_ERR__TIMED_OUT || err == RD_KAFKA_RESP_ERR__TRANSPORT)
		return check_result_fail(out, TS_ETIMEDOUT,
		                         "no broker of %s answered within %lld ms",
		                         cfg->kafka_brokers, (long long)timeout_ms);
	return check_result_fail(out, TS_EUNAVAIL, "metadata request failed: %s",
	                         rd_kafka_err2str(err));
}

/* A producer handle whose errors and logs go to c, never to stderr. */
static int new_client(const struct ts_config *cfg, int64_t timeout_ms, struct kafka_capture *c,
                      rd_kafka_t **rk, struct check_result *out)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char errstr[CHECK_TEXT_MAX] = "";
	int rc;

	rc = build_conf(cfg, timeout_ms, conf, errstr, sizeof(errstr));
	if (rc) {
		rd_kafka_conf_destroy(conf);
		return check_result_fail(out, rc, "configuration refused by librdkafka: %s",
		                         errstr);
	}
	rd_kafka_conf_set_opaque(conf, c);
	rd_kafka_conf_set_log_cb(conf, on_log);
	rd_kafka_conf_set_error_cb(conf, on_error);
	*rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	if (!*rk) {
		rd_kafka_conf_destroy(conf); /* rd_kafka_new keeps it only on success */
		return check_result_fail(out, TS_EINVAL, "cannot create a Kafka client: %s",
		                         errstr);
	}
	return 0;
}

static int all_down(struct kafka_capture *c)
{
	int down;

	pthread_mutex_lock(&c->mu);
	down = c->all_down[0] != '\0';
	pthread_mutex_unlock(&c->mu);
	return down;
}

/*
 * Asks for the metadata in growing slices of the time left, so that once
 * every bootstrap broker has failed (librdkafka's "all brokers are down"
 * event) the probe stops instead of waiting out the whole timeout, while a
 * slow but working cluster still gets slices long enough to answer.
 */
static rd_kafka_resp_err_t ask_metadata(rd_kafka_t *rk, int64_t deadline_us,
                                        struct kafka_capture *c,
                                        const struct rd_kafka_metadata **md)
{
	rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR__TIMED_OUT;
	int64_t slice_ms = 250, left_ms;

	while ((left_ms = (deadline_us - time_mono_us()) / 1000) > 0) {
		err = rd_kafka_metadata(rk, 1, NULL, md,
		                        (int)(left_ms < slice_ms ? left_ms : slice_ms));
		rd_kafka_poll(rk, 0); /* serves queued error events to on_error */
		if (!err || all_down(c))
			break;
		slice_ms *= 2;
	}
	return err;
}

static int probe(const struct ts_config *cfg, int64_t timeout_ms, struct kafka_capture *c,
                 struct check_result *out)
{
	int64_t deadline_us = time_mono_us() + timeout_ms * 1000;
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_t *rk = NULL;
	rd_kafka_resp_err_t err;
	int rc;

	rc = new_client(cfg, timeout_ms, c, &rk, out);
	if (rc)
		return rc;
	err = ask_metadata(rk, deadline_us, c, &md);
	if (err)
		rc = report_fail(cfg, err, c, timeout_ms, out);
	else
		rc = report_ok(cfg, md, out);
	if (md)
		rd_kafka_metadata_destroy(md);
	rd_kafka_destroy(rk);
	return rc;
}

int check_kafka_probe(const struct ts_config *cfg, int64_t timeout_ms, struct check_result *out)
{
	struct kafka_capture c;
	int rc;

	memset(&c, 0, sizeof(c));
	pthread_mutex_init(&c.mu, NULL);
	check_result_target(out, "%s", cfg->kafka_brokers);
	if (!cfg->kafka_brokers[0])
		rc = check_result_fail(out, TS_EINVAL, "kafka.brokers is empty");
	else
		rc = probe(cfg, timeout_ms, &c, out);
	check_result_scrub(out->reason, sizeof(out->reason), cfg->kafka_sasl_password);
	pthread_mutex_destroy(&c.mu);
	return rc;
}
