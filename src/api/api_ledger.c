/*
 * See api_ledger.h. The ledger has its own PostgreSQL connection and Kafka
 * handle (not the read pool's prepared statements: its queries are few and
 * rare), guarded by a mutex taken with trylock.
 */
#include "base/common.h"
#include "api/api_internal.h"
#include "api/api_ledger.h"
#include "api/api_query.h"
#include "api/api_read.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "db/db.h"
#include "ledger/ledger.h"
#include "kafka/kafka_watermarks.h"

#include <pthread.h>

#define HOUR_US      3600000000LL
#define MAX_RANGE_US (31 * 24 * HOUR_US)
#define BACKOFF_US   1000000LL
#define CONNECT_MS   1000

struct api_ledger {
	const struct ts_config *cfg;
	pthread_mutex_t lock;
	struct db *db; /* under lock */
	struct kafka_watermarks *kafka;
	int64_t retry_at_us; /* under lock: no connect before (monotonic) */
};

int api_ledger_new(const struct ts_config *cfg, struct api_ledger **out, struct ts_err *err)
{
	struct api_ledger *l = calloc(1, sizeof(*l));
	int rc;

	if (!l)
		return ts_err_set(err, TS_ENOMEM, "out of memory");
	rc = kafka_watermarks_new(cfg, "topsongs-ledger", LEDGER_KAFKA_TIMEOUT_MS, &l->kafka, err);
	if (rc) {
		free(l);
		return rc;
	}
	l->cfg = cfg;
	pthread_mutex_init(&l->lock, NULL);
	*out = l;
	return 0;
}

void api_ledger_free(struct api_ledger *l)
{
	if (!l)
		return;
	db_free(l->db);
	kafka_watermarks_free(l->kafka);
	pthread_mutex_destroy(&l->lock);
	free(l);
}

static const char *const allowed[] = {"from", "to", "region", "lake"};

static int check_times(const struct api_query *q, struct ledger_opts *o, struct api_reply *reply)
{
	const char *from = api_query_get(q, "from"), *to = api_query_get(q, "to"), *why;
	int64_t now = time_now_us();

	o->to_us = now - now % HOUR_US + HOUR_US;
	if (to && api_read_parse_time(to, &o->to_us, &why)) {
		api_read_bad_param(reply, "to", why);
		return -1;
	}
	o->from_us = o->to_us - 24 * HOUR_US;
	if (from && api_read_parse_time(from, &o->from_us, &why)) {
		api_read_bad_param(reply, "from", why);
		return -1;
	}
	if (o->from_us >= o->to_us) {
		api_read_bad_param(reply, "from", "must be before to");
		return -1;
	}
	if (o->to_us - o->from_us > MAX_RANGE_US) {
		api_read_bad_param(reply, "to", "the range is longer than 31 days");
		return -1;
	}
	return 0;
}

/* region_buf (16 bytes) keeps the region after q is gone. */
static int parse_params(const struct ts_config *cfg, struct api_request *req, struct ledger_opts *o,
                        char *region_buf, struct api_reply *reply)
{
	struct api_query q;
	const char *region, *lake;

	if (api_read_check_query(req, &q, allowed, ARRAY_SIZE(allowed), NULL, reply) ||
	    check_times(&q, o, reply))
		return -1;
	region = api_query_get(&q, "region");
	if (region && api_read_check_region(cfg, region, reply))
		return -1;
	lake = api_query_get(&q, "lake");
	if (lake && strcmp(lake, "0") && strcmp(lake, "1")) {
		api_read_bad_param(reply, "lake", "expected 0 or 1");
		return -1;
	}
	o->check_lake = !lake || !strcmp(lake, "1");
	if (region && strcmp(region, "ALL")) {
		snprintf(region_buf, 16, "%s", region); /* at most 8 bytes: checked */
		o->region = region_buf;
	}
	return 0;
}

/* Under lock. */
static int connect_db(struct api_ledger *l, struct ts_err *err)
{
	int rc;

	if (l->db)
		return 0;
	if (time_mono_us() < l->retry_at_us)
		return ts_err_set(err, TS_EUNAVAIL, "PostgreSQL unreachable; retrying shortly");
	rc = db_connect(l->cfg, CONNECT_MS, &l->db, err);
	if (rc) {
		l->retry_at_us = time_mono_us() + BACKOFF_US;
		return TS_EUNAVAIL;
	}
	return 0;
}

static void run(struct api_ledger *l, const struct ledger_opts *o, struct api_reply *reply)
{
	struct ledger_report *r = NULL;
	struct ts_err err;
	int rc;

	ts_err_clear(&err);
	rc = connect_db(l, &err);
	rc = rc ? rc : ledger_run(l->db, l->cfg, o, &r, &err);
	if (rc && l->db && PQstatus(db_conn(l->db)) != CONNECTION_OK) {
		/* The connection broke: the next request reconnects. */
		db_free(l->db);
		l->db = NULL;
		rc = TS_EUNAVAIL;
	}
	if (rc == TS_EUNAVAIL) {
		reply->retry_after = "2";
		api_reply_error(reply, 503, "database unavailable", err.msg);
	} else if (rc) {
		log_error("ledger", "reason=\"%s\"", err.msg);
		api_reply_error(reply, 500, "ledger failed", err.msg);
	} else {
		reply->status = 200;
		dbuf_reset(&reply->body);
		if (ledger_report_json(r, &reply->body))
			api_reply_error(reply, 500, "ledger failed", "the report is too large");
	}
	ledger_report_free(r);
}

void api_ledger_handle(struct api_ledger *l, struct api_request *req, struct api_reply *reply)
{
	struct ledger_opts o = {0};
	char region[16];

	if (parse_params(l->cfg, req, &o, region, reply))
		return;
	o.kafka = l->kafka;
	if (pthread_mutex_trylock(&l->lock)) {
		reply->retry_after = "1";
		api_reply_error(reply, 503, "busy",
		                "another ledger is being computed; retry shortly");
		return;
	}
	run(l, &o, reply);
	pthread_mutex_unlock(&l->lock);
}
