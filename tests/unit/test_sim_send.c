/*
 * Unit tests of the HTTP sender against a scripted server (libmicrohttpd on
 * 127.0.0.1, a port of the kernel's choosing): batching into POST /plays,
 * single POST /play, per-item 207 answers, 503 with Retry-After resent and
 * then given up, 4xx rejected, kept-alive connections, an unreachable api.
 * Events here are tiny JSON objects {"k":N} so the server can tell them apart.
 */
#include "tests/unit/test.h"
#include "base/timeutil.h"
#include "sim/sim_send.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>

enum script { ALL_OK, PER_ITEM, ALWAYS_503, ALL_400 };

static struct {
	pthread_mutex_t lock;
	enum script script;
	int requests, connections, items, wrong_type;
	char seen_503[4096]; /* k values already answered 503 once */
	char last_path[32];
} srv = {.lock = PTHREAD_MUTEX_INITIALIZER};

struct upload {
	char buf[1 << 16];
	size_t len;
};

/* The k of each line / object in body, into ks[]; returns how many. */
static int parse_ks(const char *body, int *ks, int max)
{
	int n = 0;

	for (const char *p = body; n < max && (p = strstr(p, "{\"k\":")); p += 5)
		ks[n++] = (int)strtol(p + 5, NULL, 10);
	return n;
}

/* PER_ITEM: k % 10 == 0 is rejected (400), k % 10 == 1 gets 503 the first
 * time it is seen, everything else is accepted. */
static int item_status(int k)
{
	if (srv.script == ALL_400)
		return 400;
	if (srv.script == ALWAYS_503)
		return 503;
	if (srv.script != PER_ITEM)
		return 202;
	if (k % 10 == 0)
		return 400;
	if (k % 10 == 1 && k < (int)sizeof(srv.seen_503) && !srv.seen_503[k]) {
		srv.seen_503[k] = 1;
		return 503;
	}
	return 202;
}

static int answer(struct MHD_Connection *c, unsigned status, const char *body, int retry)
{
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
	int rc;

	if (retry)
		MHD_add_response_header(r, "Retry-After", "0");
	MHD_add_response_header(r, "Content-Type", "application/json");
	rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

static int respond(struct MHD_Connection *c, const char *url, struct upload *u)
{
	int ks[512], n, n503 = 0, nbad = 0, single = !strcmp(url, "/play");
	char body[16384];
	size_t len;

	u->buf[u->len] = '\0';
	n = parse_ks(u->buf, ks, 512);
	len = (size_t)snprintf(body, sizeof(body), "{\"errors\":[");
	pthread_mutex_lock(&srv.lock);
	srv.requests++;
	srv.items += n;
	snprintf(srv.last_path, sizeof(srv.last_path), "%s", url);
	for (int i = 0; i < n; i++) {
		int st = item_status(ks[i]);

		if (st == 202)
			continue;
		n503 += st == 503;
		nbad += st == 400;
		len += (size_t)snprintf(body + len, sizeof(body) - len,
		                        "%s{\"index\":%d,\"status\":%d,\"error\":\"scripted\"}",
		                        n503 + nbad > 1 ? "," : "", i, st);
	}
	pthread_mutex_unlock(&srv.lock);
	snprintf(body + len, sizeof(body) - len, "],\"accepted\":%d}", n - n503 - nbad);
	if (single && (n503 || nbad))
		return answer(c, n503 ? 503 : 400, "{\"error\":\"scripted\"}", n503);
	if (!n503 && !nbad)
		return answer(c, 202, "{\"accepted\":1}", 0);
	if (n503 == n)
		return answer(c, 503, body, 1);
	return answer(c, 207, body, 0);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *size, void **con_cls)
{
	struct upload *u = *con_cls;
	const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
	const char *want = strcmp(url, "/play") ? "application/x-ndjson" : "application/json";

	(void)cls, (void)method, (void)version;
	if (!u) {
		*con_cls = calloc(1, sizeof(*u));
		return *con_cls ? MHD_YES : MHD_NO;
	}
	if (*size) {
		size_t take =
		    *size < sizeof(u->buf) - 1 - u->len ? *size : sizeof(u->buf) - 1 - u->len;

		memcpy(u->buf + u->len, data, take);
		u->len += take;
		*size = 0;
		return MHD_YES;
	}
	if (!ct || strcmp(ct, want)) {
		pthread_mutex_lock(&srv.lock);
		srv.wrong_type++;
		pthread_mutex_unlock(&srv.lock);
	}
	return respond(c, url, u) == MHD_YES ? MHD_YES : MHD_NO;
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls,
                    enum MHD_RequestTerminationCode why)
{
	(void)cls, (void)c, (void)why;
	free(*con_cls);
	*con_cls = NULL;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
	(void)cls, (void)c, (void)socket_context;
	if (code != MHD_CONNECTION_NOTIFY_STARTED)
		return;
	pthread_mutex_lock(&srv.lock);
	srv.connections++;
	pthread_mutex_unlock(&srv.lock);
}

static struct MHD_Daemon *start_server(enum script script, char *url, size_t size)
{
	struct sockaddr_in sa;
	struct MHD_Daemon *d;
	const union MHD_DaemonInfo *info;

	pthread_mutex_lock(&srv.lock);
	srv.script = script;
	srv.requests = srv.connections = srv.items = srv.wrong_type = 0;
	memset(srv.seen_503, 0, sizeof(srv.seen_503));
	pthread_mutex_unlock(&srv.lock);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0,
	                     NULL, NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR, &sa,
	                     MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL,
	                     MHD_OPTION_NOTIFY_CONNECTION, on_connection, NULL, MHD_OPTION_END);
	if (!d)
		return NULL;
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	snprintf(url, size, "http://127.0.0.1:%u", info ? (unsigned)info->port : 0u);
	return d;
}

/* Sends events k = 0 ... n - 1 and flushes; fills *st. */
static int send_events(const char *url, int batch, int concurrency, int n,
                       struct sim_send_stats *st)
{
	struct sim_send_opts o;
	struct sim_send *s = NULL;
	struct ts_err err;
	int rc;

	sim_send_opts_default(&o);
	o.target = url;
	o.batch = batch;
	o.concurrency = concurrency;
	o.max_retries = 2;
	o.timeout_ms = 5000;
	rc = sim_send_new(&o, &s, &err);
	for (int k = 0; !rc && k < n; k++) {
		char ev[32];

		snprintf(ev, sizeof(ev), "{\"k\":%d}", k);
		rc = sim_send_add(s, ev, strlen(ev), &err);
	}
	if (!rc)
		rc = sim_send_flush(s, time_mono_us() + 20 * TIME_US_PER_SEC, &err);
	if (s)
		sim_send_get_stats(s, st);
	sim_send_free(s);
	return rc;
}

TEST(sim_send_batches_all_accepted)
{
	char url[64];
	struct MHD_Daemon *d = start_server(ALL_OK, url, sizeof(url));
	struct sim_send_stats st;

	REQUIRE(d);
	CHECK_INT(send_events(url, 100, 2, 1050, &st), 0);
	MHD_stop_daemon(d);
	CHECK_INT(st.sent, 1050);
	CHECK_INT(st.accepted, 1050);
	CHECK_INT(st.rejected + st.failed + st.retried + st.in_flight, 0);
	CHECK_INT(srv.requests, 11); /* ten full batches and the rest */
	CHECK_INT(srv.items, 1050);
	CHECK_STR(srv.last_path, "/plays");
	CHECK_INT(srv.wrong_type, 0);
	CHECK(srv.connections <= 2); /* kept alive */
}

TEST(sim_send_per_item_answers)
{
	char url[64];
	struct MHD_Daemon *d = start_server(PER_ITEM, url, sizeof(url));
	struct sim_send_stats st;

	REQUIRE(d);
	CHECK_INT(send_events(url, 50, 3, 500, &st), 0);
	MHD_stop_daemon(d);
	/* 50 rejected (k % 10 == 0), 50 answered 503 once and then accepted. */
	CHECK_INT(st.sent, 500);
	CHECK_INT(st.rejected, 50);
	CHECK_INT(st.retried, 50);
	CHECK_INT(st.accepted, 450);
	CHECK_INT(st.failed, 0);
	/* Only the 503 items went out again. */
	CHECK_INT(srv.items, 550);
	CHECK(strstr(st.last_error, "400") != NULL);
}

TEST(sim_send_single_posts)
{
	char url[64];
	struct MHD_Daemon *d = start_server(PER_ITEM, url, sizeof(url));
	struct sim_send_stats st;

	REQUIRE(d);
	CHECK_INT(send_events(url, 1, 4, 100, &st), 0);
	MHD_stop_daemon(d);
	CHECK_STR(srv.last_path, "/play");
	CHECK_INT(srv.wrong_type, 0);
	CHECK_INT(st.rejected, 10);
	CHECK_INT(st.retried, 10);
	CHECK_INT(st.accepted, 90);
	CHECK_INT(srv.requests, 110);
}

TEST(sim_send_gives_up_after_retries)
{
	char url[64];
	struct MHD_Daemon *d = start_server(ALWAYS_503, url, sizeof(url));
	struct sim_send_stats st;

	REQUIRE(d);
	CHECK_INT(send_events(url, 10, 1, 20, &st), 0);
	MHD_stop_daemon(d);
	/* Two batches, each sent once and resent twice (max_retries 2). */
	CHECK_INT(srv.requests, 6);
	CHECK_INT(st.retried, 40);
	CHECK_INT(st.failed, 20);
	CHECK_INT(st.accepted, 0);
}

TEST(sim_send_rejections_and_unreachable)
{
	char url[64];
	struct MHD_Daemon *d = start_server(ALL_400, url, sizeof(url));
	struct sim_send_stats st;

	REQUIRE(d);
	CHECK_INT(send_events(url, 1, 1, 5, &st), 0);
	CHECK_INT(st.rejected, 5);
	CHECK_INT(st.retried, 0);
	MHD_stop_daemon(d);
	/* The same port, nobody listening any more: connection refused. */
	CHECK_INT(send_events(url, 5, 1, 5, &st), 0);
	CHECK_INT(st.failed, 5);
	CHECK_INT(st.retried, 10);
	CHECK(st.last_error[0] != '\0');
}

TEST(sim_send_rejects_bad_options)
{
	struct sim_send_opts o;
	struct sim_send *s = NULL;
	struct ts_err err;

	sim_send_opts_default(&o);
	o.target = "ftp://x";
	CHECK(sim_send_new(&o, &s, &err) == TS_EINVAL && !s);
	o.target = "http://127.0.0.1:1";
	o.concurrency = 0;
	CHECK(sim_send_new(&o, &s, &err) == TS_EINVAL);
	o.concurrency = 1;
	o.max_body = 64;
	REQUIRE(sim_send_new(&o, &s, &err) == 0);
	CHECK(
	    sim_send_add(s,
	                 "{\"k\":\"................................................................"
	                 "......................\"}",
	                 90, &err) == TS_ETOOBIG);
	sim_send_free(s);
	sim_send_free(NULL);
}
