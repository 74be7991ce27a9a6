/*
 * Broker high watermarks with a short cache; see api_lag.h.
 */
#include "base/common.h"
#include "api/api_lag.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "kafka/kafka_producer.h"

#include <librdkafka/rdkafka.h>
#include <pthread.h>

struct api_lag {
	const struct ts_config *cfg;
	rd_kafka_t *rk; /* made on first use */
	char *topic;
	pthread_mutex_t lock;
	int64_t fetched_us; /* monotonic; 0 = never */
	int rc;
	char reason[200];
	int n;
	int64_t hw[API_LAG_MAX_PARTITIONS];
};

int api_lag_new(const struct ts_config *cfg, struct api_lag **out, struct ts_err *err)
{
	struct api_lag *lag = calloc(1, sizeof(*lag));

	if (!lag || !(lag->topic = strdup(cfg->kafka_topic))) {
		free(lag);
		return ts_err_set(err, TS_ENOMEM, "out of memory");
	}
	lag->cfg = cfg;
	pthread_mutex_init(&lag->lock, NULL);
	*out = lag;
	return 0;
}

/* Broker trouble is the producer's to report (and /readyz's): ours would
 * only repeat it. */
static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	(void)rk;
	(void)level;
	log_debug("librdkafka (lag)", "facility=%s %s", fac, buf);
}

/* The handle, made on the first /api/pipeline: an api nobody asks about
 * lag keeps no second set of broker connections. */
static int make_handle(struct api_lag *lag)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	struct ts_err err;
	char errstr[256];
	int rc = conf ? 0 : ts_err_set(&err, TS_ENOMEM, "out of memory");

	rc = rc ? rc : kafka_conf_connection(conf, lag->cfg, &err);
	rc = rc ? rc : kafka_conf_set(conf, "client.id", "topsongs-api-lag", &err);
	if (!rc) {
		rd_kafka_conf_set_log_cb(conf, on_log);
		lag->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
		if (lag->rk)
			conf = NULL; /* owned by the handle now */
		else
			rc = ts_err_set(&err, TS_EINVAL, "kafka: %s", errstr);
	}
	if (conf)
		rd_kafka_conf_destroy(conf);
	if (rc)
		snprintf(lag->reason, sizeof(lag->reason), "%s", err.msg);
	return rc;
}

void api_lag_free(struct api_lag *lag)
{
	if (!lag)
		return;
	if (lag->rk)
		rd_kafka_destroy(lag->rk);
	pthread_mutex_destroy(&lag->lock);
	free(lag->topic);
	free(lag);
}

/* Asks the brokers; called with the lock held. */
static void fetch(struct api_lag *lag)
{
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_topic_t *t = NULL;
	rd_kafka_resp_err_t e;

	lag->rc = TS_EUNAVAIL;
	lag->n = 0;
	if (!lag->rk && make_handle(lag))
		return;
	t = rd_kafka_topic_new(lag->rk, lag->topic, NULL);
	e = t ? rd_kafka_metadata(lag->rk, 0, t, &md, API_LAG_TIMEOUT_MS) : RD_KAFKA_RESP_ERR__FAIL;
	if (!e && (md->topic_cnt != 1 || md->topics[0].err))
		e = md->topic_cnt == 1 ? md->topics[0].err : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC;
	if (e) {
		snprintf(lag->reason, sizeof(lag->reason), "kafka: %s", rd_kafka_err2str(e));
		goto out;
	}
	for (int i = 0; i < md->topics[0].partition_cnt; i++) {
		int32_t part = md->topics[0].partitions[i].id;
		int64_t lo, hi;

		if (part < 0 || part >= API_LAG_MAX_PARTITIONS)
			continue;
		e = rd_kafka_query_watermark_offsets(lag->rk, lag->topic, part, &lo, &hi,
		                                     API_LAG_TIMEOUT_MS);
		if (e) {
			snprintf(lag->reason, sizeof(lag->reason), "kafka: partition %d: %s",
			         (int)part, rd_kafka_err2str(e));
			goto out;
		}
		lag->hw[part] = hi;
		if (part + 1 > lag->n)
			lag->n = part + 1;
	}
	lag->rc = 0;
out:
	if (md)
		rd_kafka_metadata_destroy(md);
	if (t)
		rd_kafka_topic_destroy(t);
}

int api_lag_watermarks(struct api_lag *lag, int64_t *hw, int max, int *n, struct ts_err *err)
{
	int rc;

	pthread_mutex_lock(&lag->lock);
	if (!lag->fetched_us || time_mono_us() - lag->fetched_us > API_LAG_CACHE_MS * 1000LL) {
		fetch(lag);
		lag->fetched_us = time_mono_us();
	}
	rc = lag->rc;
	if (rc)
		ts_err_set(err, rc, "%s", lag->reason);
	*n = lag->n;
	memcpy(hw, lag->hw, sizeof(*hw) * (size_t)(lag->n < max ? lag->n : max));
	pthread_mutex_unlock(&lag->lock);
	return rc;
}
