/*
 * See kafka_watermarks.h.
 */
#include "base/common.h"
#include "base/log.h"
#include "kafka/kafka_producer.h"
#include "kafka/kafka_watermarks.h"

#include <librdkafka/rdkafka.h>

struct kafka_watermarks {
	const struct ts_config *cfg;
	char client_id[64];
	int timeout_ms;
	rd_kafka_t *rk; /* made on first use */
};

int kafka_watermarks_new(const struct ts_config *cfg, const char *client_id, int timeout_ms,
                         struct kafka_watermarks **out, struct ts_err *err)
{
	struct kafka_watermarks *w = calloc(1, sizeof(*w));

	if (!w)
		return ts_err_set(err, TS_ENOMEM, "out of memory");
	w->cfg = cfg;
	snprintf(w->client_id, sizeof(w->client_id), "%s", client_id);
	w->timeout_ms = timeout_ms;
	*out = w;
	return 0;
}

void kafka_watermarks_free(struct kafka_watermarks *w)
{
	if (!w)
		return;
	if (w->rk)
		rd_kafka_destroy(w->rk);
	free(w);
}

/* Broker trouble is reported by the answer (and by the producer, in the
 * api): the log would only repeat it. */
static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	(void)rk;
	(void)level;
	log_debug("librdkafka (watermarks)", "facility=%s %s", fac, buf);
}

static int make_handle(struct kafka_watermarks *w, struct ts_err *err)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char errstr[256];
	int rc = conf ? 0 : ts_err_set(err, TS_ENOMEM, "out of memory");

	rc = rc ? rc : kafka_conf_connection(conf, w->cfg, err);
	rc = rc ? rc : kafka_conf_set(conf, "client.id", w->client_id, err);
	if (!rc) {
		rd_kafka_conf_set_log_cb(conf, on_log);
		w->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
		if (w->rk)
			conf = NULL; /* owned by the handle now */
		else
			rc = ts_err_set(err, TS_EINVAL, "kafka: %s", errstr);
	}
	if (conf)
		rd_kafka_conf_destroy(conf);
	return rc;
}

static int ask(struct kafka_watermarks *w, const struct rd_kafka_metadata_topic *t, int64_t *hw,
               int max, int *n, struct ts_err *err)
{
	for (int i = 0; i < t->partition_cnt; i++) {
		int32_t part = t->partitions[i].id;
		int64_t lo, hi;
		rd_kafka_resp_err_t e;

		if (part < 0 || part >= max)
			return ts_err_set(err, TS_ETOOBIG, "kafka: partition %d is beyond %d",
			                  (int)part, max);
		e = rd_kafka_query_watermark_offsets(w->rk, w->cfg->kafka_topic, part, &lo, &hi,
		                                     w->timeout_ms);
		if (e)
			return ts_err_set(err, TS_EUNAVAIL, "kafka: partition %d: %s", (int)part,
			                  rd_kafka_err2str(e));
		hw[part] = hi;
		if (part + 1 > *n)
			*n = part + 1;
	}
	return 0;
}

int kafka_watermarks_get(struct kafka_watermarks *w, int64_t *hw, int max, int *n,
                         struct ts_err *err)
{
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_topic_t *t = NULL;
	rd_kafka_resp_err_t e;
	int rc;

	*n = 0;
	if (!w->rk && (rc = make_handle(w, err)))
		return rc;
	t = rd_kafka_topic_new(w->rk, w->cfg->kafka_topic, NULL);
	e = t ? rd_kafka_metadata(w->rk, 0, t, &md, w->timeout_ms) : RD_KAFKA_RESP_ERR__FAIL;
	if (!e && (md->topic_cnt != 1 || md->topics[0].err))
		e = md->topic_cnt == 1 ? md->topics[0].err : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC;
	if (e)
		rc = ts_err_set(err, TS_EUNAVAIL, "kafka: %s", rd_kafka_err2str(e));
	else
		rc = ask(w, &md->topics[0], hw, max, n, err);
	if (md)
		rd_kafka_metadata_destroy(md);
	if (t)
		rd_kafka_topic_destroy(t);
	return rc;
}
