/*
 * The HTTP sender behind sim_send.h. Each request slot owns a curl easy
 * handle for the whole run, and the multi handle's connection cache keeps
 * one connection per slot alive, so a steady run opens `concurrency`
 * connections once. A batch is filled in its own buffer and handed to an
 * idle slot by swapping buffers, never copied; a partly failed batch is
 * rebuilt from the failed items only and resent from the same slot.
 */
#include "base/common.h"
#include "base/dbuf.h"
#include "base/timeutil.h"
#include "sim/sim_send.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include <curl/curl.h>
#include <jansson.h>

#define RESP_MAX (1u << 20)

enum slot_state { SLOT_IDLE, SLOT_ACTIVE, SLOT_WAITING };

struct batch {
	struct dbuf body;
	size_t *off; /* start of each item; off[n] is the end */
	size_t n;
};

struct slot {
	CURL *easy;
	struct batch b;
	struct dbuf resp;
	int attempts;
	int64_t due_us; /* SLOT_WAITING: when to resend (monotonic clock) */
	enum slot_state state;
};

struct sim_send {
	struct sim_send_opts o;
	CURLM *multi;
	struct curl_slist *headers;
	char *url;
	struct slot *slots;
	struct batch fill;
	int64_t fill_since_us;
	struct sim_send_stats st;
	int last_is_reject; /* last_error holds a rejection: keep it */
	FILE *log;          /* outcome_log, or NULL */
};

void sim_send_opts_default(struct sim_send_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->target = "http://127.0.0.1:8080";
	o->concurrency = 8;
	o->batch = 100;
	o->max_body = 8u << 20;
	o->timeout_ms = 10000;
	o->max_retries = 8;
	o->max_delay_ms = 30000;
	o->linger_ms = 200;
}

/* ---- set-up ------------------------------------------------------------- */

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	/* A reply larger than RESP_MAX is cut; the status still counts. */
	dbuf_add(arg, data, size * nmemb);
	return size * nmemb;
}

static int batch_init(struct batch *b, const struct sim_send_opts *o)
{
	dbuf_init(&b->body, o->max_body);
	b->n = 0;
	b->off = calloc((size_t)o->batch + 1, sizeof(*b->off));
	return b->off ? 0 : TS_ENOMEM;
}

static void batch_release(struct batch *b)
{
	dbuf_release(&b->body);
	free(b->off);
	b->off = NULL;
}

static int slot_init(struct sim_send *s, struct slot *sl)
{
	dbuf_init(&sl->resp, RESP_MAX);
	sl->easy = curl_easy_init();
	if (!sl->easy || batch_init(&sl->b, &s->o))
		return TS_ENOMEM;
	curl_easy_setopt(sl->easy, CURLOPT_URL, s->url);
	curl_easy_setopt(sl->easy, CURLOPT_HTTPHEADER, s->headers);
	curl_easy_setopt(sl->easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(sl->easy, CURLOPT_WRITEDATA, &sl->resp);
	curl_easy_setopt(sl->easy, CURLOPT_PRIVATE, sl);
	curl_easy_setopt(sl->easy, CURLOPT_TIMEOUT_MS, s->o.timeout_ms);
	curl_easy_setopt(sl->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(sl->easy, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(sl->easy, CURLOPT_USERAGENT, "topsongs-simulate");
	return 0;
}

static int check_opts(const struct sim_send_opts *o, struct ts_err *err)
{
	if (!o->target || (strncmp(o->target, "http://", 7) && strncmp(o->target, "https://", 8)))
		return ts_err_set(err, TS_EINVAL, "target must be an http:// or https:// URL");
	if (o->concurrency < 1 || o->concurrency > SIM_SEND_MAX_CONCURRENCY)
		return ts_err_set(err, TS_EINVAL, "concurrency must be in [1, %d]",
		                  SIM_SEND_MAX_CONCURRENCY);
	if (o->batch < 1 || o->max_body < 64 || o->timeout_ms < 1 || o->max_retries < 0)
		return ts_err_set(err, TS_EINVAL, "bad sender options");
	return 0;
}

/* The URL of the endpoint, and the headers: a batch is NDJSON. "Expect:"
 * turns off curl's 100-continue round trip on larger bodies. */
static int make_endpoint(struct sim_send *s)
{
	size_t n = strlen(s->o.target);
	const char *path = s->o.batch > 1 ? "/plays" : "/play";
	struct dbuf u;

	while (n && s->o.target[n - 1] == '/')
		n--;
	dbuf_init(&u, 4096);
	if (dbuf_add(&u, s->o.target, n) || dbuf_addstr(&u, path))
		return TS_ETOOBIG;
	s->url = dbuf_detach(&u, NULL);
	s->headers = curl_slist_append(NULL, s->o.batch > 1 ? "Content-Type: application/x-ndjson"
	                                                    : "Content-Type: application/json");
	if (s->headers)
		s->headers = curl_slist_append(s->headers, "Expect:");
	return s->url && s->headers ? 0 : TS_ENOMEM;
}

static int open_log(struct sim_send *s, struct ts_err *err)
{
	if (!s->o.outcome_log)
		return 0;
	s->log = fopen(s->o.outcome_log, "w");
	if (!s->log)
		return ts_err_set(err, TS_EIO, "cannot create %s: %s", s->o.outcome_log,
		                  strerror(errno));
	s->o.outcome_log = NULL; /* the caller's string is not kept */
	setvbuf(s->log, NULL, _IOFBF, 1 << 20);
	return 0;
}

int sim_send_new(const struct sim_send_opts *o, struct sim_send **out, struct ts_err *err)
{
	struct sim_send *s = NULL;
	int rc;

	*out = NULL;
	rc = check_opts(o, err);
	if (rc)
		goto out;
	rc = TS_ENOMEM;
	s = calloc(1, sizeof(*s));
	if (!s)
		goto out;
	s->o = *o;
	if (make_endpoint(s))
		goto out;
	s->o.target = NULL; /* the caller's string is not kept */
	s->multi = curl_multi_init();
	s->slots = calloc((size_t)o->concurrency, sizeof(*s->slots));
	if (!s->multi || !s->slots || batch_init(&s->fill, o))
		goto out;
	curl_multi_setopt(s->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)o->concurrency);
	for (int i = 0; i < o->concurrency; i++)
		if (slot_init(s, &s->slots[i]))
			goto out;
	rc = open_log(s, err);
out:
	if (rc == TS_ENOMEM)
		ts_err_set(err, rc, "sender: out of memory");
	if (rc)
		sim_send_free(s);
	else
		*out = s;
	return rc;
}

void sim_send_free(struct sim_send *s)
{
	if (!s)
		return;
	for (int i = 0; s->slots && i < s->o.concurrency; i++) {
		struct slot *sl = &s->slots[i];

		if (sl->state == SLOT_ACTIVE)
			curl_multi_remove_handle(s->multi, sl->easy);
		if (sl->easy)
			curl_easy_cleanup(sl->easy);
		batch_release(&sl->b);
		dbuf_release(&sl->resp);
	}
	free(s->slots);
	if (s->log)
		fclose(s->log);
	batch_release(&s->fill);
	if (s->multi)
		curl_multi_cleanup(s->multi);
	curl_slist_free_all(s->headers);
	free(s->url);
	free(s);
}

/* ---- settling answers --------------------------------------------------- */

static void set_error(struct sim_send *s, int reject, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records the reason shown with the totals; a rejection (the one a user
 * must act on) is not overwritten by a transient failure. */
static void set_error(struct sim_send *s, int reject, const char *fmt, ...)
{
	va_list ap;

	if (!reject && s->last_is_reject)
		return;
	s->last_is_reject |= reject;
	va_start(ap, fmt);
	vsnprintf(s->st.last_error, sizeof(s->st.last_error), fmt, ap);
	va_end(ap);
}

/* One outcome line for item i of a batch. The event is our own JSON, but
 * it is parsed rather than scanned so that the line cannot lie. */
static void log_item(struct sim_send *s, const struct batch *b, size_t i, char tag, int sends)
{
	size_t len = b->off[i + 1] - b->off[i];
	json_t *ev;
	const char *id, *region, *ts;

	if (len && b->body.buf[b->off[i] + len - 1] == '\n')
		len--;
	ev = json_loadb(b->body.buf + b->off[i], len, 0, NULL);
	id = json_string_value(json_object_get(ev, "event_id"));
	region = json_string_value(json_object_get(ev, "region"));
	ts = json_string_value(json_object_get(ev, "ts"));
	if (!id || !region || !ts ||
	    fprintf(s->log, "%c\t%s\t%s\t%s\t%d\n", tag, id, region, ts, sends) < 0)
		s->st.log_errors++;
	json_decref(ev);
}

/* Logs the items of the slot's batch whose mark in keep[] is `want` (every
 * item when keep is NULL), each sent `sends` times. */
static void log_items(struct sim_send *s, const struct batch *b, const char *keep, char want,
                      char tag, int sends)
{
	if (!s->log)
		return;
	for (size_t i = 0; i < b->n; i++)
		if (!keep || keep[i] == want)
			log_item(s, b, i, tag, sends);
}

static void slot_done(struct sim_send *s, struct slot *sl)
{
	s->st.in_flight -= sl->b.n;
	sl->b.n = 0;
	dbuf_reset(&sl->b.body);
	sl->state = SLOT_IDLE;
}

static int slot_start(struct sim_send *s, struct slot *sl)
{
	dbuf_reset(&sl->resp);
	curl_easy_setopt(sl->easy, CURLOPT_POSTFIELDS, dbuf_str(&sl->b.body));
	curl_easy_setopt(sl->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)sl->b.body.len);
	if (curl_multi_add_handle(s->multi, sl->easy) != CURLM_OK)
		return TS_ENOMEM;
	sl->state = SLOT_ACTIVE;
	s->st.requests++;
	return 0;
}

/* Seconds from a Retry-After header; HTTP dates are not worth parsing
 * here, they fall back to the back-off. */
static int64_t retry_after_ms(CURL *easy)
{
	struct curl_header *h = NULL;
	char *end;
	long long v;

	if (curl_easy_header(easy, "Retry-After", 0, CURLH_HEADER, -1, &h) != CURLHE_OK)
		return -1;
	v = strtoll(h->value, &end, 10);
	if (end == h->value || v < 0)
		return -1;
	return v > 86400 ? 86400000 : v * 1000; /* capped by max_delay_ms later */
}

/* Resends the slot's (remaining) items later, or gives them up. */
static void retry_later(struct sim_send *s, struct slot *sl, int64_t hint_ms)
{
	int64_t delay = hint_ms >= 0 ? hint_ms : 250LL << (sl->attempts < 8 ? sl->attempts : 8);

	if (++sl->attempts > s->o.max_retries) {
		log_items(s, &sl->b, NULL, 0, 'F', sl->attempts);
		s->st.failed += sl->b.n;
		slot_done(s, sl);
		return;
	}
	if (delay > s->o.max_delay_ms)
		delay = s->o.max_delay_ms;
	if (delay < 50)
		delay = 50;
	s->st.retried += sl->b.n;
	sl->due_us = time_mono_us() + delay * 1000;
	sl->state = SLOT_WAITING;
}

/* Keeps only the items marked 1 in keep[], in order, in the slot's batch. */
static int keep_items(struct sim_send *s, struct slot *sl, const char *keep)
{
	struct batch nb;
	int rc = batch_init(&nb, &s->o);

	for (size_t i = 0; !rc && i < sl->b.n; i++) {
		if (keep[i] != 1)
			continue;
		nb.off[nb.n++] = nb.body.len;
		rc = dbuf_add(&nb.body, sl->b.body.buf + sl->b.off[i],
		              sl->b.off[i + 1] - sl->b.off[i]);
	}
	nb.off[nb.n] = nb.body.len;
	if (rc) {
		batch_release(&nb);
		return rc;
	}
	s->st.in_flight -= sl->b.n - nb.n;
	batch_release(&sl->b);
	sl->b = nb;
	return 0;
}

/* One per-item error of a batch answer: 1 resend, 2 rejected, 0 ignored.
 * The api names the field, the error, and sometimes the rule or detail. */
static int item_verdict(struct sim_send *s, json_t *e, size_t n, size_t *index)
{
	json_int_t idx = json_integer_value(json_object_get(e, "index"));
	json_int_t status = json_integer_value(json_object_get(e, "status"));
	const char *field = json_string_value(json_object_get(e, "field"));
	const char *why = json_string_value(json_object_get(e, "error"));
	const char *rule = json_string_value(json_object_get(e, "rule"));

	if (!rule)
		rule = json_string_value(json_object_get(e, "detail"));
	if (idx < 0 || (size_t)idx >= n)
		return 0;
	*index = (size_t)idx;
	if (status == 503 || status == 429) {
		set_error(s, 0, "item unavailable (%d): %s", (int)status,
		          rule  ? rule
		          : why ? why
		                : "no reason given");
		return 1;
	}
	set_error(s, 1, "item rejected (%d): %s%s%s%s%s", (int)status, field ? field : "",
	          field ? ": " : "", why ? why : "no reason given", rule ? ", " : "",
	          rule ? rule : "");
	return 2;
}

/* Per-item results of a batch: {"accepted":N,"rejected":M,"errors":[...]}
 * listing only the items not accepted. Returns TS_EINVAL when the body
 * has no such list (the caller then goes by the status alone). */
static int settle_items(struct sim_send *s, struct slot *sl, int64_t hint_ms)
{
	json_t *root = json_loadb(dbuf_str(&sl->resp), sl->resp.len, 0, NULL);
	json_t *errors = json_object_get(root, "errors"), *e;
	size_t i, idx, nretry = 0, nbad = 0;
	char *keep;

	keep = json_is_array(errors) ? calloc(sl->b.n ? sl->b.n : 1, 1) : NULL;
	if (!keep) {
		json_decref(root);
		return TS_EINVAL;
	}
	json_array_foreach(errors, i, e)
	{
		int v = item_verdict(s, e, sl->b.n, &idx);

		if (v && !keep[idx]) {
			keep[idx] = (char)v;
			nretry += v == 1;
			nbad += v == 2;
		}
	}
	json_decref(root);
	s->st.accepted += sl->b.n - nretry - nbad;
	s->st.rejected += nbad;
	log_items(s, &sl->b, keep, 0, 'A', sl->attempts + 1);
	log_items(s, &sl->b, keep, 2, 'R', sl->attempts + 1);
	if (!nretry) {
		slot_done(s, sl);
	} else if (keep_items(s, sl, keep)) {
		log_items(s, &sl->b, keep, 1, 'F', sl->attempts + 1);
		s->st.failed += sl->b.n;
		slot_done(s, sl);
	} else {
		retry_later(s, sl, hint_ms);
	}
	free(keep);
	return 0;
}

static void complete(struct sim_send *s, struct slot *sl, CURLcode res)
{
	long status = 0;
	int64_t hint;

	curl_multi_remove_handle(s->multi, sl->easy);
	if (res != CURLE_OK) {
		set_error(s, 0, "%s: %s", s->url, curl_easy_strerror(res));
		retry_later(s, sl, -1);
		return;
	}
	curl_easy_getinfo(sl->easy, CURLINFO_RESPONSE_CODE, &status);
	hint = retry_after_ms(sl->easy);
	if (status >= 200 && status < 300 && status != 207) {
		log_items(s, &sl->b, NULL, 0, 'A', sl->attempts + 1);
		s->st.accepted += sl->b.n;
		slot_done(s, sl);
		return;
	}
	if (s->o.batch > 1 && (status == 207 || status == 400 || status == 503) &&
	    !settle_items(s, sl, hint))
		return;
	set_error(s, status >= 400 && status < 500 && status != 429, "HTTP %ld: %.200s", status,
	          dbuf_str(&sl->resp));
	if (status == 429 || status == 502 || status == 503 || status == 504) {
		retry_later(s, sl, hint);
		return;
	}
	log_items(s, &sl->b, NULL, 0, status >= 400 && status < 500 ? 'R' : 'F', sl->attempts + 1);
	if (status >= 400 && status < 500)
		s->st.rejected += sl->b.n;
	else
		s->st.failed += sl->b.n;
	slot_done(s, sl);
}

/* ---- driving ------------------------------------------------------------ */

static void drain(struct sim_send *s)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(s->multi, &left))) {
		struct slot *sl = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&sl);
		complete(s, sl, msg->data.result);
	}
}

/* Restarts the waiting slots that are due; returns ms until the next one
 * (or `cap` when none waits). */
static int resend_due(struct sim_send *s, int cap)
{
	int64_t now = time_mono_us(), next = (int64_t)cap * 1000;

	for (int i = 0; i < s->o.concurrency; i++) {
		struct slot *sl = &s->slots[i];

		if (sl->state != SLOT_WAITING)
			continue;
		if (sl->due_us <= now) {
			if (slot_start(s, sl)) {
				log_items(s, &sl->b, NULL, 0, 'F', sl->attempts);
				s->st.failed += sl->b.n;
				slot_done(s, sl);
			}
		} else if (sl->due_us - now < next) {
			next = sl->due_us - now;
		}
	}
	return (int)((next + 999) / 1000);
}

/* One round: resends, transfers, waiting at most wait_ms for sockets. */
static void drive(struct sim_send *s, int wait_ms)
{
	int running = 0, wait = resend_due(s, wait_ms);

	curl_multi_perform(s->multi, &running);
	drain(s);
	if (wait > 0) {
		curl_multi_poll(s->multi, NULL, 0, wait, NULL);
		curl_multi_perform(s->multi, &running);
		drain(s);
	}
}

static struct slot *idle_slot(struct sim_send *s)
{
	for (int i = 0; i < s->o.concurrency; i++)
		if (s->slots[i].state == SLOT_IDLE)
			return &s->slots[i];
	return NULL;
}

/* Hands the filled batch to an idle slot, waiting for one if need be
 * (unless cancelled). */
static void dispatch(struct sim_send *s)
{
	struct slot *sl;
	struct batch tmp;

	while (!(sl = idle_slot(s))) {
		if (s->o.cancel && *s->o.cancel) {
			set_error(s, 0, "stopped with %zu events unsent", s->fill.n);
			log_items(s, &s->fill, NULL, 0, 'F', 0);
			s->st.failed += s->fill.n;
			s->fill.n = 0;
			dbuf_reset(&s->fill.body);
			return;
		}
		drive(s, 50);
	}
	tmp = sl->b;
	sl->b = s->fill;
	s->fill = tmp;
	s->fill.n = 0;
	dbuf_reset(&s->fill.body);
	sl->attempts = 0;
	s->st.sent += sl->b.n;
	s->st.in_flight += sl->b.n;
	if (slot_start(s, sl)) {
		set_error(s, 0, "sender: could not start a request");
		log_items(s, &sl->b, NULL, 0, 'F', 0);
		s->st.failed += sl->b.n;
		slot_done(s, sl);
	}
}

int sim_send_add(struct sim_send *s, const char *json, size_t len, struct ts_err *err)
{
	size_t need = len + (s->o.batch > 1);
	int rc;

	if (need > s->o.max_body)
		return ts_err_set(err, TS_ETOOBIG, "sender: an event of %zu bytes is over %zu", len,
		                  s->o.max_body);
	if (s->fill.n && s->fill.body.len + need > s->o.max_body)
		dispatch(s);
	if (!s->fill.n)
		s->fill_since_us = time_mono_us();
	s->fill.off[s->fill.n] = s->fill.body.len;
	rc = dbuf_add(&s->fill.body, json, len);
	if (!rc && s->o.batch > 1)
		rc = dbuf_addc(&s->fill.body, '\n');
	if (rc)
		return ts_err_set(err, rc, "sender: out of memory");
	s->fill.off[++s->fill.n] = s->fill.body.len;
	if (s->fill.n == (size_t)s->o.batch)
		dispatch(s);
	return 0;
}

int sim_send_poll(struct sim_send *s, int wait_ms, struct ts_err *err)
{
	(void)err;
	if (s->fill.n && time_mono_us() - s->fill_since_us >= s->o.linger_ms * 1000)
		dispatch(s);
	drive(s, wait_ms);
	return 0;
}

static int busy(const struct sim_send *s)
{
	for (int i = 0; i < s->o.concurrency; i++)
		if (s->slots[i].state != SLOT_IDLE)
			return 1;
	return 0;
}

int sim_send_flush(struct sim_send *s, int64_t deadline_us, struct ts_err *err)
{
	if (s->fill.n)
		dispatch(s);
	while (busy(s)) {
		if (time_mono_us() >= deadline_us)
			return ts_err_set(err, TS_ETIMEDOUT, "sender: %llu events still unsettled",
			                  (unsigned long long)s->st.in_flight);
		drive(s, 50);
	}
	return 0;
}

void sim_send_get_stats(const struct sim_send *s, struct sim_send_stats *out)
{
	*out = s->st;
	/* A line still in stdio's buffer is not lost, but one that failed to
	 * reach the file must show before the totals are trusted. */
	if (s->log && fflush(s->log))
		out->log_errors++;
}
