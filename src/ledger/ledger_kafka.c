/*
 * See ledger_kafka.h.
 */
#include "base/common.h"
#include "base/log.h"
#include "kafka/kafka_producer.h"
#include "ledger/ledger_kafka.h"

#include <librdkafka/rdkafka.h>

struct ledger_kafka {
	const struct ts_config *cfg;
	rd_kafka_t *rk;
};

int ledger_kafka_new(const struct ts_config *cfg, struct ledger_kafka **out, struct ts_err *err)
{
	struct ledger_kafka *k = calloc(1, sizeof(*k));

	if (!k)
		return ts_err_set(err, TS_ENOMEM, "out of memory");
	k->cfg = cfg;
	*out = k;
	return 0;
}

void ledger_kafka_free(struct ledger_kafka *k)
{
	if (!k)
		return;
	if (k->rk)
		rd_kafka_destroy(k->rk);
	free(k);
}

/* Broker trouble is reported by the answer; the log would repeat it. */
static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	(void)rk;
	(void)level;
	log_debug("librdkafka (ledger)", "facility=%s %s", fac, buf);
}

static int make_handle(struct ledger_kafka *k, struct ts_err *err)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char errstr[256];
	int rc = conf ? 0 : ts_err_set(err, TS_ENOMEM, "out of memory");

	rc = rc ? rc : kafka_conf_connection(conf, k->cfg, err);
	rc = rc ? rc : kafka_conf_set(conf, "client.id", "topsongs-ledger", err);
	if (!rc) {
		rd_kafka_conf_set_log_cb(conf, on_log);
		k->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
		if (k->rk)
			conf = NULL; /* owned by the handle now */
		else
			rc = ts_err_set(err, TS_EINVAL, "kafka: %s", errstr);
	}
	if (conf)
		rd_kafka_conf_destroy(conf);
	return rc;
}

static int ask(struct ledger_kafka *k, const struct rd_kafka_metadata_topic *t, int64_t *hw,
               int max, int *n, struct ts_err *err)
{
	for (int i = 0; i < t->partition_cnt; i++) {
		int32_t part = t->partitions[i].id;
		int64_t lo, hi;
		rd_kafka_resp_err_t e;

		if (part < 0 || part >= max)
			return ts_err_set(err, TS_ETOOBIG, "kafka: partition %d is beyond %d",
			                  (int)part, max);
		e = rd_kafka_query_watermark_offsets(k->rk, k->cfg->kafka_topic, part, &lo, &hi,
		                                     LEDGER_KAFKA_TIMEOUT_MS);
		if (e)
			return ts_err_set(err, TS_EUNAVAIL, "kafka: partition %d: %s", (int)part,
			                  rd_kafka_err2str(e));
		hw[part] = hi;
		if (part + 1 > *n)
			*n = part + 1;
	}
	return 0;
}

int ledger_kafka_watermarks(void *arg, int64_t *hw, int max, int *n, struct ts_err *err)
{
	struct ledger_kafka *k = arg;
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_topic_t *t = NULL;
	rd_kafka_resp_err_t e;
	int rc;

	*n = 0;
	if (!k->rk && (rc = make_handle(k, err)))
		return rc;
	t = rd_kafka_topic_new(k->rk, k->cfg->kafka_topic, NULL);
	e = t ? rd_kafka_metadata(k->rk, 0, t, &md, LEDGER_KAFKA_TIMEOUT_MS)
	      : RD_KAFKA_RESP_ERR__FAIL;
	if (!e && (md->topic_cnt != 1 || md->topics[0].err))
		e = md->topic_cnt == 1 ? md->topics[0].err : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC;
	if (e)
		rc = ts_err_set(err, TS_EUNAVAIL, "kafka: %s", rd_kafka_err2str(e));
	else
		rc = ask(k, &md->topics[0], hw, max, n, err);
	if (md)
		rd_kafka_metadata_destroy(md);
	if (t)
		rd_kafka_topic_destroy(t);
	return rc;
}
