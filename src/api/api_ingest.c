/*
 * POST /play and POST /plays: validate every event against the contract,
 * produce the valid ones keyed by user_id, suspend the connection, and
 * answer once the broker has acknowledged (202) or failed (503) each record.
 * Invalid items never reach Kafka; a batch reports per item, listing only the
 * items that were not accepted.
 */
#include "base/common.h"
#include "api/api_accepted.h"
#include "api/api_internal.h"
#include "api/api_ndjson.h"
#include "base/log.h"
#include "base/timeutil.h"

#include <jansson.h>
#include <strings.h>

/* The media type of a Content-Type header, without parameters. */
static int media_is(const char *ctype, const char *want)
{
	size_t n = strlen(want);

	if (!ctype)
		return 0;
	while (*ctype == ' ')
		ctype++;
	return !strncasecmp(ctype, want, n) &&
	       (ctype[n] == '\0' || ctype[n] == ';' || ctype[n] == ' ');
}

static void rules_now(const struct api_server *srv, struct event_rules *rules)
{
	rules->regions = srv->cfg->regions;
	rules->now_us = time_now_us();
	rules->max_age_us = srv->cfg->event_max_age_s * TIME_US_PER_SEC;
	rules->max_future_us = srv->cfg->event_max_future_s * TIME_US_PER_SEC;
}

/* Reserves room for n more pending events, or says the api is overloaded. */
static int reserve_pending(struct api_server *srv, size_t n)
{
	long long before = atomic_fetch_add(&srv->pending_events, (long long)n);

	if (before + (long long)n > srv->cfg->api_max_pending) {
		atomic_fetch_sub(&srv->pending_events, (long long)n);
		return TS_EUNAVAIL;
	}
	return 0;
}

static void record_invalid(struct api_request *req, size_t i, const struct event_error *why)
{
	struct api_item *it = &req->items[i];
	size_t off = req->errors.len;

	it->status = 400;
	event_error_to_json(why, &req->errors);
	it->err_off = (unsigned)off;
	it->err_len = (unsigned)(req->errors.len - off);
}

/* Validates item i (a decoded value, or NULL with a parse error in jerr). */
static int validate_item(struct api_request *req, size_t i, json_t *v, const json_error_t *jerr,
                         const struct event_rules *rules, struct play_event *ev)
{
	struct event_error why = {0};

	req->items[i].req = req;
	if (!v) {
		why.rule = "must be valid JSON";
		snprintf(why.detail, sizeof(why.detail), "%s", jerr->text);
		api_metrics_reject(REJECT_INVALID_JSON, 1);
		record_invalid(req, i, &why);
		return TS_EINVAL;
	}
	if (event_from_json(v, rules, ev, &why)) {
		api_metrics_reject(REJECT_INVALID_FIELD, 1);
		record_invalid(req, i, &why);
		return TS_EINVAL;
	}
	api_accepted_note(req, i, ev);
	return 0;
}

/* Validates item i given as JSON text: the canonical fast path first (the
 * form our simulator and event_to_json write; it accepts only what jansson
 * would accept the same way, tests/fuzz/fuzz_event.c), jansson for the
 * rest, whose errors name the field and rule. This is event_parse's order,
 * spelled out because the api counts rejects by kind (bad JSON or a broken
 * rule, validate_item) and reports jansson's own error text. */
static int validate_text(struct api_request *req, size_t i, const char *p, size_t len,
                         const struct event_rules *rules, struct play_event *ev, bool *as_written)
{
	json_error_t jerr;
	json_t *v;
	int rc;

	*as_written = false;
	if (event_parse_canonical(p, len, rules, ev, as_written)) {
		req->items[i].req = req;
		api_accepted_note(req, i, ev);
		return 0;
	}
	v = json_loadb(p, len, JSON_REJECT_DUPLICATES, &jerr);
	rc = validate_item(req, i, v, &jerr, rules, ev);
	json_decref(v);
	return rc;
}

/* The valid events of a request, ready to send: for item i, its key
 * (user_id) is at vals[off[i]] for klen[i] bytes, directly followed by its
 * canonical JSON value of vlen[i] bytes. off[i] is SIZE_MAX for an invalid
 * item. */
struct staged {
	struct dbuf vals;
	size_t *off;
	size_t *klen;
	size_t *vlen;
};

/* Stages item i: its key, then its canonical JSON, which is text (len
 * bytes) when that is not NULL: what validate_text found already written as
 * event_to_json would (about a tenth of the api's CPU under batches went
 * to writing it anew). */
static int stage_event(struct staged *st, size_t i, const struct play_event *ev, const char *text,
                       size_t len)
{
	size_t start = st->vals.len, klen = strlen(ev->user_id);
	int rc = dbuf_add(&st->vals, ev->user_id, klen);

	if (!rc)
		rc = text ? dbuf_add(&st->vals, text, len) : event_to_json(ev, &st->vals);
	if (rc)
		return rc;
	st->off[i] = start;
	st->klen[i] = klen;
	st->vlen[i] = st->vals.len - start - klen;
	return 0;
}

static int stage_array(struct api_request *req, json_t *arr, struct staged *st,
                       const struct event_rules *rules)
{
	struct play_event ev;
	json_error_t none = {0};

	for (size_t i = 0; i < req->nitems; i++) {
		st->off[i] = SIZE_MAX;
		if (!validate_item(req, i, json_array_get(arr, i), &none, rules, &ev) &&
		    stage_event(st, i, &ev, NULL, 0))
			return TS_ENOMEM;
	}
	return 0;
}

static int stage_lines(struct api_request *req, struct staged *st, const struct event_rules *rules)
{
	const char *p = dbuf_str(&req->body), *end = p + req->body.len, *line;
	struct play_event ev;
	bool as_written;
	size_t len;

	for (size_t i = 0; i < req->nitems && api_ndjson_next(&p, end, &line, &len); i++) {
		st->off[i] = SIZE_MAX;
		if (!validate_text(req, i, line, len, rules, &ev, &as_written) &&
		    stage_event(st, i, &ev, as_written ? line : NULL, len))
			return TS_ENOMEM;
	}
	return 0;
}

/* Sends the staged records; items the producer refuses become 503 at once.
 * The lock keeps delivery reports from resuming before we have suspended. */
static void produce_staged(struct api_request *req, struct staged *st)
{
	struct api_server *srv = req->srv;

	pthread_mutex_lock(&req->lock);
	for (size_t i = 0; i < req->nitems; i++) {
		const char *key;

		if (st->off[i] == SIZE_MAX)
			continue;
		key = st->vals.buf + st->off[i];
		req->waiting++;
		if (kafka_producer_send(srv->producer, key, st->klen[i], key + st->klen[i],
		                        st->vlen[i], &req->items[i])) {
			req->waiting--;
			req->items[i].status = 503;
			atomic_fetch_sub(&srv->pending_events, 1);
			api_metrics_reject(REJECT_OVERLOADED, 1);
		}
	}
	if (req->waiting) {
		req->phase = PHASE_WAITING;
		req->suspended = 1;
		req->refs += 2; /* one for the delivery reports, one for the wait list */
		req->deadline_us = req->t0_us + srv->cfg->kafka_produce_timeout_ms * 1000;
		MHD_suspend_connection(req->conn);
		/* Listed before any delivery report can run (they need req->lock),
		 * so the last one always finds it listed. Lock order: req->lock,
		 * then srv->wait_lock; nothing takes them the other way round. */
		api_wait_add(srv, req);
	}
	pthread_mutex_unlock(&req->lock);
}

static void staged_release(struct staged *st)
{
	dbuf_release(&st->vals);
	free(st->off);
	free(st->klen);
	free(st->vlen);
}

static int staged_init(struct staged *st, size_t n, size_t body_len)
{
	dbuf_init(&st->vals, body_len * 2 + 4096);
	st->off = malloc(n * sizeof(size_t));
	st->klen = malloc(n * sizeof(size_t));
	st->vlen = malloc(n * sizeof(size_t));
	if (!st->off || !st->klen || !st->vlen)
		return TS_ENOMEM;
	for (size_t i = 0; i < n; i++)
		st->off[i] = SIZE_MAX;
	return 0;
}

/* Parses the body into items (JSON array or NDJSON) and stages the valid
 * ones. Fills reply and returns non-zero when the whole request fails. */
static int stage_body(struct api_request *req, const char *ctype, struct staged *st,
                      struct api_reply *reply)
{
	struct api_server *srv = req->srv;
	struct event_rules rules;
	json_t *arr = NULL;
	json_error_t jerr;
	int rc = 0, ndjson = req->route == ROUTE_PLAYS && media_is(ctype, "application/x-ndjson");

	if (!ndjson && !media_is(ctype, "application/json")) {
		api_metrics_reject(REJECT_MEDIA_TYPE, 1);
		api_reply_error(reply, 415, "unsupported media type",
		                req->route == ROUTE_PLAY
		                    ? "POST /play takes application/json"
		                    : "POST /plays takes application/json or application/x-ndjson");
		return TS_EINVAL;
	}
	if (req->route == ROUTE_PLAY) {
		req->nitems = 1;
	} else if (ndjson) {
		req->nitems = api_ndjson_count(dbuf_str(&req->body), req->body.len);
	} else {
		arr =
		    json_loadb(dbuf_str(&req->body), req->body.len, JSON_REJECT_DUPLICATES, &jerr);
		if (!arr || !json_is_array(arr)) {
			api_metrics_reject(REJECT_INVALID_JSON, 1);
			api_reply_error(reply, 400, "invalid batch",
			                arr ? "expected a JSON array of plays" : jerr.text);
			json_decref(arr);
			return TS_EINVAL;
		}
		req->nitems = json_array_size(arr);
	}
	if (req->nitems == 0 || req->nitems > (size_t)srv->cfg->api_max_batch) {
		api_metrics_reject(req->nitems ? REJECT_TOO_LARGE : REJECT_INVALID_JSON, 1);
		api_reply_error(reply, req->nitems ? 413 : 400,
		                req->nitems ? "batch too large" : "empty batch",
		                req->nitems ? "see api.max-batch" : "send at least one play");
		json_decref(arr);
		return TS_EINVAL;
	}
	req->items = calloc(req->nitems, sizeof(*req->items));
	rc = req->items ? staged_init(st, req->nitems, req->body.len) : TS_ENOMEM;
	rules_now(srv, &rules);
	if (!rc && req->route == ROUTE_PLAY) {
		const char *body = dbuf_str(&req->body);
		struct play_event ev;
		bool as_written;

		if (!validate_text(req, 0, body, req->body.len, &rules, &ev, &as_written))
			rc = stage_event(st, 0, &ev, as_written ? body : NULL, req->body.len);
	} else if (!rc) {
		rc = ndjson ? stage_lines(req, st, &rules) : stage_array(req, arr, st, &rules);
	}
	json_decref(arr);
	if (rc)
		api_reply_error(reply, 500, "out of memory", NULL);
	return rc;
}

static size_t count_valid(const struct staged *st, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += st->off[i] != SIZE_MAX;
	return k;
}

int api_ingest_start(struct api_request *req, const char *content_type, struct api_reply *reply)
{
	struct staged st = {0};
	size_t nvalid;

	if (stage_body(req, content_type, &st, reply))
		goto out;
	nvalid = count_valid(&st, req->nitems);
	if (nvalid && reserve_pending(req->srv, nvalid)) {
		api_metrics_reject(REJECT_OVERLOADED, nvalid);
		reply->retry_after = "1";
		api_reply_error(reply, 503, "overloaded", "too many plays awaiting Kafka; retry");
		goto out;
	}
	/* Checked after reserving: api_server_drain sets the flag, then waits for
	 * pending to reach 0, so one of the two always sees the other. */
	if (nvalid && atomic_load(&req->srv->draining)) {
		atomic_fetch_sub(&req->srv->pending_events, (long long)nvalid);
		reply->retry_after = "1";
		reply->close = 1;
		api_reply_error(reply, 503, "shutting down", NULL);
		goto out;
	}
	if (nvalid)
		produce_staged(req, &st);
	staged_release(&st);
	if (req->phase == PHASE_WAITING)
		return 1;
	api_ingest_finish(req, reply);
	return 0;
out:
	staged_release(&st);
	return 0;
}

static void finish_single(struct api_request *req, struct api_reply *reply)
{
	struct api_item *it = &req->items[0];

	if (it->status == 202) {
		reply->status = 202;
		dbuf_addstr(&reply->body, "{\"status\":\"accepted\"}");
	} else if (it->status == 400) {
		reply->status = 400;
		dbuf_add(&reply->body, req->errors.buf + it->err_off, it->err_len);
	} else {
		reply->retry_after = "1";
		api_reply_error(reply, 503, "unavailable",
		                "Kafka did not acknowledge the play in time; retry it as it is");
	}
}

/* {"accepted":a,"rejected":r,"errors":[{"index":i,"status":s,...},...]} */
static void finish_batch(struct api_request *req, struct api_reply *reply)
{
	size_t accepted = 0, unavailable = 0, sep = 0;

	for (size_t i = 0; i < req->nitems; i++) {
		accepted += req->items[i].status == 202;
		unavailable += req->items[i].status == 503;
	}
	dbuf_addf(&reply->body, "{\"accepted\":%zu,\"rejected\":%zu,\"errors\":[", accepted,
	          req->nitems - accepted);
	for (size_t i = 0; i < req->nitems; i++) {
		const struct api_item *it = &req->items[i];

		if (it->status == 202)
			continue;
		dbuf_addf(&reply->body, "%s{\"index\":%zu,\"status\":%d,", sep++ ? "," : "", i,
		          it->status);
		if (it->status == 400)
			dbuf_add(&reply->body, req->errors.buf + it->err_off + 1, it->err_len - 1);
		else
			dbuf_addstr(&reply->body, "\"error\":\"unavailable\",\"detail\":\"not "
			                          "acknowledged by Kafka; retry this play\"}");
	}
	dbuf_addstr(&reply->body, "]}");
	if (accepted == req->nitems)
		reply->status = 202;
	else if (unavailable == req->nitems)
		reply->status = 503;
	else if (accepted == 0 && unavailable == 0)
		reply->status = 400;
	else
		reply->status = 207;
	if (unavailable)
		reply->retry_after = "1";
}

void api_ingest_finish(struct api_request *req, struct api_reply *reply)
{
	size_t accepted = 0;

	/* Records still unacknowledged at the deadline are answered 503. */
	pthread_mutex_lock(&req->lock);
	for (size_t i = 0; i < req->nitems; i++) {
		if (req->items[i].status == 0)
			req->items[i].status = 503;
		accepted += req->items[i].status == 202;
	}
	pthread_mutex_unlock(&req->lock);
	api_accepted_count(req);
	api_metrics_events(accepted);
	if (req->route == ROUTE_PLAY)
		finish_single(req, reply);
	else
		finish_batch(req, reply);
}

void api_ingest_on_delivery(void *msg_opaque, int rc)
{
	struct api_item *it = msg_opaque;
	struct api_request *req = it->req;
	int last;

	if (rc)
		api_metrics_reject(REJECT_BROKER, 1);
	atomic_fetch_sub(&req->srv->pending_events, 1);
	pthread_mutex_lock(&req->lock);
	/* After a deadline the answer is already 503: keep it. */
	if (req->suspended)
		it->status = rc ? 503 : 202;
	last = --req->waiting == 0;
	if (last && req->suspended) {
		api_metrics_produce_latency(time_mono_us() - req->t0_us);
		req->suspended = 0;
		MHD_resume_connection(req->conn);
	}
	pthread_mutex_unlock(&req->lock);
	if (!last)
		return;
	/* We still hold the delivery-report reference, so req is alive here. */
	api_wait_remove(req->srv, req);
	api_request_unref(req);
}
