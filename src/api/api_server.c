/*
 * libmicrohttpd glue: the route table, request bodies with their caps, and
 * the lifecycle of struct api_request across suspend/resume. The ingest
 * handlers themselves are in api_ingest.c.
 */
#include "base/common.h"
#include "api/api.h"
#include "api/api_accepted.h"
#include "api/api_internal.h"
#include "api/api_ledger.h"
#include "api/api_guard.h"
#include "api/api_read.h"
#include "api/api_static.h"
#include "base/log.h"
#include "base/timeutil.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <strings.h>
#include <unistd.h>

struct api_route {
	const char *path;
	const char *method;
	enum api_route_id id;
	int has_body;
	enum api_read_ep read; /* ROUTE_API: which read endpoint */
};

/* The one table of routes; a path listed with another method answers 405.
 * GET/HEAD of any other path outside /api/ serves the dashboard's files
 * (api_static.c). The OpenAPI document is built from this table. */
static const struct api_route routes[] = {
    {"/play", "POST", ROUTE_PLAY, 1, READ_NONE},
    {"/plays", "POST", ROUTE_PLAYS, 1, READ_NONE},
    {"/healthz", "GET", ROUTE_HEALTHZ, 0, READ_NONE},
    {"/readyz", "GET", ROUTE_READYZ, 0, READ_NONE},
    {"/metrics", "GET", ROUTE_METRICS, 0, READ_NONE},
    {"/api/regions", "GET", ROUTE_API, 0, READ_REGIONS},
    {"/api/top", "GET", ROUTE_API, 0, READ_TOP},
    {"/api/top.csv", "GET", ROUTE_API, 0, READ_TOP_CSV},
    {"/api/trend", "GET", ROUTE_API, 0, READ_TREND},
    {"/api/pipeline", "GET", ROUTE_API, 0, READ_PIPELINE},
    {"/api/ledger", "GET", ROUTE_API, 0, READ_LEDGER},
    {"/api/openapi.json", "GET", ROUTE_API, 0, READ_OPENAPI},
};

size_t api_route_count(void)
{
	return ARRAY_SIZE(routes);
}

void api_route_get(size_t i, const char **path, const char **method)
{
	*path = routes[i].path;
	*method = routes[i].method;
}

/* Matches path and method; *known_path tells a 405 from a 404. */
static const struct api_route *route_find(const char *path, const char *method, int *known_path)
{
	*known_path = 0;
	for (size_t i = 0; i < ARRAY_SIZE(routes); i++) {
		if (strcmp(path, routes[i].path))
			continue;
		*known_path = 1;
		if (!strcmp(method, routes[i].method) ||
		    (!strcmp(method, "HEAD") && !strcmp(routes[i].method, "GET")))
			return &routes[i];
	}
	return NULL;
}

void api_reply_error(struct api_reply *reply, int status, const char *what, const char *detail)
{
	reply->status = status;
	dbuf_reset(&reply->body);
	dbuf_addstr(&reply->body, "{\"error\":");
	dbuf_add_json_str(&reply->body, what);
	if (detail) {
		dbuf_addstr(&reply->body, ",\"detail\":");
		dbuf_add_json_str(&reply->body, detail);
	}
	dbuf_addc(&reply->body, '}');
}

void api_reply_etag(struct api_request *req, struct api_reply *reply, uint64_t hash)
{
	const char *inm = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "If-None-Match");

	snprintf(reply->etag, sizeof(reply->etag), "\"%016llx\"", (unsigned long long)hash);
	if (inm && (strstr(inm, reply->etag) || !strcmp(inm, "*"))) {
		reply->status = 304;
		dbuf_reset(&reply->body);
	}
}

static struct MHD_Response *make_response(struct api_reply *reply)
{
	struct MHD_Response *resp;
	size_t len;
	char *body;

	if (reply->has_file) {
		resp = MHD_create_response_from_fd64(reply->file_size, reply->file_fd);
		if (!resp)
			close(reply->file_fd);
		reply->has_file = 0;
		return resp;
	}
	if (reply->status != 304 &&
	    (reply->content_type == NULL || !strncmp(reply->content_type, "application/json", 16)))
		dbuf_addc(&reply->body, '\n');
	body = dbuf_detach(&reply->body, &len);
	resp = MHD_create_response_from_buffer(
	    len, body ? body : (char *)"", body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (!resp)
		free(body);
	return resp;
}

/* Nearly every POST /play is answered with the same bytes: one response made
 * at start and shared (libmicrohttpd counts its users, and a response may be
 * queued on many connections at once) instead of a body and four headers
 * allocated, copied and freed per request. Must match finish_single's 202. */
#define ACCEPTED_BODY "{\"status\":\"accepted\"}\n"

static struct MHD_Response *accepted_response_new(void)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(
	    sizeof(ACCEPTED_BODY) - 1, (void *)ACCEPTED_BODY, MHD_RESPMEM_PERSISTENT);

	if (resp &&
	    (MHD_add_response_header(resp, "Content-Type", "application/json") != MHD_YES ||
	     MHD_add_response_header(resp, "Cache-Control", "no-store") != MHD_YES ||
	     MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff") != MHD_YES)) {
		MHD_destroy_response(resp);
		resp = NULL;
	}
	return resp;
}

static int is_plain_accepted(const struct api_request *req, const struct api_reply *reply)
{
	return req->srv->accepted_reply && req->route == ROUTE_PLAY && reply->status == 202 &&
	       !reply->close && !reply->retry_after && !reply->has_file && !reply->etag[0] &&
	       !reply->filename[0] && !reply->allow && !reply->content_type;
}

/* The request is answered (or gone): it no longer counts against
 * api.max-inflight. Runs on the connection's thread, or in request_free once
 * nothing else holds req. */
static void inflight_end(struct api_request *req)
{
	if (!req->inflight)
		return;
	req->inflight = 0;
	atomic_fetch_sub(&req->srv->inflight, 1);
}

static enum MHD_Result send_reply(struct api_request *req, struct api_reply *reply)
{
	struct MHD_Response *resp;
	char disposition[128];
	enum MHD_Result ret;

	inflight_end(req);
	if (is_plain_accepted(req, reply)) {
		ret = MHD_queue_response(req->conn, 202, req->srv->accepted_reply);
		api_metrics_request(req->route, 202);
		req->phase = PHASE_DONE;
		return ret;
	}
	resp = make_response(reply);
	if (!resp)
		return MHD_NO;
	if (reply->status != 304)
		MHD_add_response_header(resp, "Content-Type",
		                        reply->content_type ? reply->content_type
		                                            : "application/json");
	MHD_add_response_header(resp, "Cache-Control",
	                        reply->cache_control ? reply->cache_control : "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	if (reply->etag[0])
		MHD_add_response_header(resp, "ETag", reply->etag);
	if (reply->filename[0]) {
		snprintf(disposition, sizeof(disposition), "attachment; filename=\"%s\"",
		         reply->filename);
		MHD_add_response_header(resp, "Content-Disposition", disposition);
	}
	if (reply->retry_after)
		MHD_add_response_header(resp, "Retry-After", reply->retry_after);
	if (reply->allow)
		MHD_add_response_header(resp, "Allow", reply->allow);
	if (reply->close)
		MHD_add_response_header(resp, "Connection", "close");
	ret = MHD_queue_response(req->conn, (unsigned)reply->status, resp);
	MHD_destroy_response(resp);
	api_metrics_request(req->route, reply->status);
	req->phase = PHASE_DONE;
	return ret;
}

static void reply_get(struct api_request *req, struct api_reply *reply)
{
	struct api_server *srv = req->srv;
	int ready = kafka_producer_ready(srv->producer);

	reply->status = 200;
	switch (req->route) {
	case ROUTE_HEALTHZ:
		dbuf_addstr(&reply->body, "{\"status\":\"ok\"}");
		break;
	case ROUTE_READYZ:
		if (atomic_load(&srv->draining))
			api_reply_error(reply, 503, "not ready", "shutting down");
		else if (ready)
			dbuf_addstr(&reply->body, "{\"status\":\"ready\"}");
		else
			api_reply_error(reply, 503, "not ready", "no Kafka broker reachable");
		break;
	case ROUTE_METRICS:
		reply->content_type = "text/plain; version=0.0.4";
		api_metrics_render(&reply->body, kafka_producer_queue_len(srv->producer),
		                   atomic_load(&srv->pending_events),
		                   atomic_load(&srv->open_requests), atomic_load(&srv->inflight),
		                   ready);
		break;
	case ROUTE_API:
		if (req->read_ep == READ_LEDGER)
			api_ledger_handle(srv->ledger, req, reply);
		else
			api_read_handle(srv->read, (enum api_read_ep)req->read_ep, req, reply);
		break;
	default:
		BUG("route %d has no GET handler", req->route);
	}
}

static struct api_request *request_new(struct api_server *srv, struct MHD_Connection *conn)
{
	struct api_request *req = calloc(1, sizeof(*req));

	if (!req)
		return NULL;
	req->srv = srv;
	req->conn = conn;
	req->route = ROUTE_OTHER;
	dbuf_init(&req->body, (size_t)srv->cfg->api_max_body);
	dbuf_init(&req->errors, 64u << 20);
	pthread_mutex_init(&req->lock, NULL);
	req->refs = 1;
	atomic_fetch_add(&srv->open_requests, 1);
	return req;
}

static void request_free(struct api_request *req);

void api_request_unref(struct api_request *req)
{
	int last;

	pthread_mutex_lock(&req->lock);
	last = --req->refs == 0;
	pthread_mutex_unlock(&req->lock);
	if (last)
		request_free(req);
}

static void request_free(struct api_request *req)
{
	inflight_end(req);
	atomic_fetch_sub(&req->srv->open_requests, 1);
	free(req->query);
	pthread_mutex_destroy(&req->lock);
	dbuf_release(&req->body);
	dbuf_release(&req->errors);
	free(req->items);
	free(req);
}

/* Appends a chunk of the body, within the per-request and global caps. */
static void take_body(struct api_request *req, const char *data, size_t size)
{
	struct api_server *srv = req->srv;

	if (req->too_large || req->over_buffer)
		return;
	if (atomic_fetch_add(&srv->buffered_bytes, (long long)size) + (long long)size >
	    srv->cfg->api_max_buffered) {
		atomic_fetch_sub(&srv->buffered_bytes, (long long)size);
		req->over_buffer = 1;
		return;
	}
	if (dbuf_add(&req->body, data, size)) {
		atomic_fetch_sub(&srv->buffered_bytes, (long long)size);
		req->too_large = 1;
	}
}

static void give_back_body(struct api_request *req)
{
	atomic_fetch_sub(&req->srv->buffered_bytes, (long long)req->body.len);
	dbuf_release(&req->body);
}

struct framing {
	int lengths;      /* Content-Length headers */
	int conflicting;  /* ... with different values */
	int chunked;      /* Transfer-Encoding headers */
	int other_coding; /* ... naming anything but exactly "chunked" */
	const char *first;
};

static enum MHD_Result count_framing(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
	struct framing *f = cls;

	(void)kind;
	if (!strcasecmp(key, "Content-Length")) {
		if (f->lengths++ && strcmp(value ? value : "", f->first))
			f->conflicting = 1;
		else if (!f->first)
			f->first = value ? value : "";
	} else if (!strcasecmp(key, "Transfer-Encoding")) {
		f->chunked++;
		f->other_coding |= !value || strcasecmp(value, "chunked");
	}
	return MHD_YES;
}

/* A request whose body length is ambiguous — two different Content-Lengths,
 * or a Content-Length with a Transfer-Encoding — is refused and its
 * connection closed (RFC 9112, 6.3): a proxy in front of us might frame it
 * differently, and the difference is how request smuggling works. */
static int ambiguous_framing(struct api_request *req, struct api_reply *reply)
{
	struct framing f = {0};

	MHD_get_connection_values(req->conn, MHD_HEADER_KIND, count_framing, &f);
	if (!f.conflicting && !(f.lengths && f.chunked) && f.chunked <= 1 && !f.other_coding)
		return 0;
	reply->close = 1;
	api_metrics_reject(REJECT_BAD_FRAMING, 1);
	/* Two Transfer-Encodings, or one that is not just "chunked" ("chunked,
	 * identity", "gzip, chunked"): libmicrohttpd would read the body as
	 * chunked, a proxy might not. We implement no other coding (501). */
	if (!f.conflicting && !f.lengths && f.chunked == 1)
		api_reply_error(reply, 501, "unsupported transfer coding",
		                "only Transfer-Encoding: chunked is understood");
	else
		api_reply_error(reply, 400, "ambiguous request framing",
		                f.conflicting ? "different Content-Length headers"
		                : f.lengths   ? "Content-Length with Transfer-Encoding"
		                              : "more than one Transfer-Encoding header");
	return 1;
}

/* First call for a request: route it, and refuse early what cannot succeed. */
static int on_first_call(struct api_request *req, const char *url, const char *method,
                         struct api_reply *reply)
{
	const struct api_route *route;
	const char *clen;
	int known;

	if (atomic_load(&req->srv->draining)) {
		/* Keep-alive clients may still send after SIGTERM: refuse, and
		 * close the connection so they go to another instance. */
		reply->close = 1;
		reply->retry_after = "1";
		api_reply_error(reply, 503, "shutting down", NULL);
		return 1;
	}
	if (ambiguous_framing(req, reply))
		return 1;
	route = route_find(url, method, &known);
	if (!route && !known && req->srv->statics && strncmp(url, "/api/", 5) &&
	    (!strcmp(method, "GET") || !strcmp(method, "HEAD"))) {
		req->route = ROUTE_STATIC;
		return 0;
	}
	if (!route) {
		req->route = ROUTE_OTHER;
		if (known) {
			reply->allow =
			    strcmp(url, "/play") && strcmp(url, "/plays") ? "GET, HEAD" : "POST";
			api_metrics_reject(REJECT_METHOD, 1);
			api_reply_error(reply, 405, "method not allowed", method);
		} else {
			api_metrics_reject(REJECT_NOT_FOUND, 1);
			api_reply_error(reply, 404, "not found", NULL);
		}
		return 1;
	}
	req->route = route->id;
	req->read_ep = (int)route->read;
	clen = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Content-Length");
	if (route->has_body && clen &&
	    strtoull(clen, NULL, 10) > (unsigned long long)req->body.max) {
		api_metrics_reject(REJECT_TOO_LARGE, 1);
		api_reply_error(reply, 413, "request body too large", "see api.max-body");
		return 1;
	}
	return 0;
}

/* Load shedding: past api.max-inflight requests awaiting their answer, a new
 * one is refused at once, cheaply (nothing parsed, nothing produced), so the
 * api's latency and memory stay bounded and it keeps time for the read API
 * and the page; clients back off by Retry-After. Checked once the body is in
 * (bounded by api.max-buffered), so the connection stays usable. */
static int inflight_begin(struct api_request *req)
{
	struct api_server *srv = req->srv;

	if (atomic_fetch_add(&srv->inflight, 1) >= srv->cfg->api_max_inflight) {
		atomic_fetch_sub(&srv->inflight, 1);
		return 0;
	}
	req->inflight = 1;
	return 1;
}

static enum MHD_Result finish_body(struct api_request *req, struct api_reply *reply)
{
	const char *ctype;
	int rc;

	if (req->too_large) {
		api_metrics_reject(REJECT_TOO_LARGE, 1);
		api_reply_error(reply, 413, "request body too large", "see api.max-body");
		return send_reply(req, reply);
	}
	if (req->over_buffer) {
		api_metrics_reject(REJECT_OVERLOADED, 1);
		reply->retry_after = "1";
		api_reply_error(reply, 503, "overloaded", "too many request bodies buffered");
		return send_reply(req, reply);
	}
	if (!inflight_begin(req)) {
		api_metrics_reject(REJECT_SHED, 1);
		reply->retry_after = "1";
		api_reply_error(reply, 503, "overloaded", "too many requests in flight; retry");
		give_back_body(req);
		return send_reply(req, reply);
	}
	ctype = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Content-Type");
	req->t0_us = time_mono_us();
	rc = api_ingest_start(req, ctype, reply);
	/* The records are copied into the producer: the body is not needed
	 * while the request waits for Kafka, so it stops counting against
	 * api.max-buffered and its memory goes back now. */
	give_back_body(req);
	if (rc == 1)
		return MHD_YES; /* suspended until the delivery reports arrive */
	return send_reply(req, reply);
}

/* libmicrohttpd calls this first with the raw URI: the request object is
 * made here so it can keep the undecoded query string for api_query. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct api_request *req = request_new(cls, conn);
	const char *q = uri ? strchr(uri, '?') : NULL;

	/* libmicrohttpd decodes the path and cuts it at a %00: remember one so
	 * the file server refuses the request instead of serving a prefix. */
	if (req && uri)
		req->path_nul = memmem(uri, q ? (size_t)(q - uri) : strlen(uri), "%00", 3) != NULL;
	if (req && q && q[1]) {
		req->query_len = strlen(q + 1);
		req->query = strndup(q + 1, req->query_len);
		if (!req->query)
			req->query_len = 0;
	}
	if (req)
		req->fresh = 1;
	return req;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
	struct api_request *req = *con_cls;
	struct api_reply reply = {0};
	enum MHD_Result ret;

	(void)version;
	dbuf_init(&reply.body, 64u << 20);
	if (!req || req->fresh) {
		if (!req)
			req = request_new(cls, conn);
		if (!req)
			return MHD_NO;
		req->fresh = 0;
		*con_cls = req;
		if (!on_first_call(req, url, method, &reply)) {
			dbuf_release(&reply.body);
			return MHD_YES;
		}
		api_guard_received(req->srv->guard, conn);
		return send_reply(req, &reply);
	}
	if (*upload_data_size) {
		take_body(req, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	api_guard_received(req->srv->guard, conn);
	if (req->phase == PHASE_WAITING) {
		api_ingest_finish(req, &reply);
		ret = send_reply(req, &reply);
	} else if (req->route == ROUTE_PLAY || req->route == ROUTE_PLAYS) {
		ret = finish_body(req, &reply);
	} else if (req->route == ROUTE_STATIC) {
		api_static_handle(req->srv->statics, req, url, &reply);
		ret = send_reply(req, &reply);
	} else {
		reply_get(req, &reply);
		ret = send_reply(req, &reply);
	}
	dbuf_release(&reply.body);
	return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	struct api_request *req = *con_cls;
	struct api_server *srv = cls;

	(void)toe;
	api_guard_completed(srv->guard, conn);
	if (!req)
		return;
	*con_cls = NULL;
	if (req->body.buf)
		give_back_body(req);
	api_request_unref(req);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[512];

	(void)cls;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	buf[strcspn(buf, "\n")] = '\0';
	log_debug("libmicrohttpd", "%s", buf);
}

/* Splits "host:port" or "[v6]:port" and resolves it numerically or by name. */
static int resolve_listen(const char *listen, struct sockaddr_storage *ss, socklen_t *len,
                          struct ts_err *err)
{
	char host[256];
	const char *colon = strrchr(listen, ':');
	struct addrinfo hints = {0}, *res = NULL;
	size_t hlen;
	int gai;

	if (!colon)
		return ts_err_set(err, TS_EINVAL, "api.listen: expected HOST:PORT");
	hlen = (size_t)(colon - listen);
	if (hlen >= 2 && listen[0] == '[' && listen[hlen - 1] == ']') {
		listen++;
		hlen -= 2;
	}
	if (hlen >= sizeof(host))
		return ts_err_set(err, TS_EINVAL, "api.listen: host too long");
	memcpy(host, listen, hlen);
	host[hlen] = '\0';
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	gai = getaddrinfo(host, colon + 1, &hints, &res);
	if (gai)
		return ts_err_set(err, TS_EINVAL, "api.listen %s: %s", listen, gai_strerror(gai));
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static unsigned worker_threads(const struct ts_config *cfg)
{
	long n = cfg->api_threads ? (long)cfg->api_threads : sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (unsigned)n : 1u;
}

static int start_daemon(struct api_server *srv, struct ts_err *err)
{
	const struct ts_config *cfg = srv->cfg;
	struct sockaddr_storage ss;
	socklen_t sslen;
	unsigned threads = worker_threads(cfg);
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TURBO |
	                 MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	const union MHD_DaemonInfo *info;
	int rc = resolve_listen(cfg->api_listen, &ss, &sslen, err);

	if (rc)
		return rc;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	srv->daemon = MHD_start_daemon(
	    flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_SOCK_ADDR, &ss,
	    MHD_OPTION_THREAD_POOL_SIZE, threads ? threads : 1u, MHD_OPTION_CONNECTION_LIMIT,
	    (unsigned)cfg->api_max_connections, MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned)cfg->api_idle_timeout_s, MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
	    MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u, MHD_OPTION_STRICT_FOR_CLIENT, 1,
	    MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u, MHD_OPTION_URI_LOG_CALLBACK, on_uri, srv,
	    MHD_OPTION_NOTIFY_CONNECTION, api_guard_notify, srv->guard,
	    /* Small requests: a 16 KiB pool (reset per request) instead of 32. */
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)16384, MHD_OPTION_EXTERNAL_LOGGER,
	    on_mhd_log, NULL, MHD_OPTION_END);
	if (!srv->daemon)
		return ts_err_set(err, TS_EIO, "cannot listen on %s (address in use or not local?)",
		                  cfg->api_listen);
	info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
	srv->port = info ? info->port : 0;
	return 0;
}

/* The read API and the page; neither needs its service to be up. */
static int start_read(struct api_server *srv, struct ts_err *err)
{
	struct ts_err why;
	int rc = api_read_new(srv->cfg, (int)worker_threads(srv->cfg), &srv->read, err);

	if (rc)
		return rc;
	if (srv->cfg->api_web_dir[0] && api_static_new(srv->cfg->api_web_dir, &srv->statics, &why))
		log_info("no dashboard to serve", "reason=\"%s\"", why.msg);
	return 0;
}

int api_server_start(const struct ts_config *cfg, struct api_server **out, struct ts_err *err)
{
	struct api_server *srv = calloc(1, sizeof(*srv));
	int rc;

	if (!srv)
		return ts_err_set(err, TS_ENOMEM, "out of memory");
	srv->cfg = cfg;
	pthread_mutex_init(&srv->wait_lock, NULL);
	rc = api_wait_start(srv);
	if (rc) {
		free(srv);
		return ts_err_set(err, rc, "cannot start the deadline thread");
	}
	rc = kafka_producer_new(cfg, api_ingest_on_delivery, &srv->producer, err);
	if (!rc && api_guard_new(cfg->api_idle_timeout_s, &srv->guard))
		rc = ts_err_set(err, TS_ENOMEM, "cannot start the slow-client guard");
	if (!rc)
		rc = api_accepted_new(cfg, &srv->accepted, err);
	if (!rc)
		rc = api_ledger_new(cfg, &srv->ledger, err);
	if (!rc)
		rc = start_read(srv, err);
	if (!rc && !(srv->accepted_reply = accepted_response_new()))
		rc = ts_err_set(err, TS_ENOMEM, "out of memory");
	if (!rc)
		rc = start_daemon(srv, err);
	if (rc) {
		if (srv->accepted_reply)
			MHD_destroy_response(srv->accepted_reply);
		api_read_free(srv->read);
		api_static_free(srv->statics);
		api_accepted_free(srv->accepted);
		api_ledger_free(srv->ledger);
		api_guard_free(srv->guard);
		kafka_producer_free(srv->producer);
		api_wait_stop(srv);
		free(srv);
		return rc;
	}
	*out = srv;
	return 0;
}

int api_server_port(const struct api_server *srv)
{
	return srv->port;
}

int api_server_drain(struct api_server *srv, int timeout_ms)
{
	int64_t deadline = time_mono_us() + (int64_t)timeout_ms * 1000;
	int rc = 0;

	atomic_store(&srv->draining, 1);
	MHD_quiesce_daemon(srv->daemon);
	while (atomic_load(&srv->pending_events) > 0 && time_mono_us() < deadline)
		usleep(10000);
	if (atomic_load(&srv->pending_events) > 0)
		rc = TS_ETIMEDOUT;
	if (kafka_producer_flush(srv->producer, 100))
		rc = TS_ETIMEDOUT;
	return rc;
}

void api_server_free(struct api_server *srv)
{
	if (!srv)
		return;
	/* Records still queued fail through their callbacks (503), which resumes
	 * their connections; give the threads a moment to answer them. */
	atomic_store(&srv->draining, 1);
	kafka_producer_purge(srv->producer);
	/* Every report has run, so the wait list is empty and the resumed
	 * connections are being answered; stop the deadline thread before the
	 * connections it points to go away, and the producer last. */
	usleep(100000);
	api_wait_stop(srv);
	MHD_stop_daemon(srv->daemon);
	/* Every request is answered: the last 202s go into the last flush. */
	api_accepted_free(srv->accepted);
	api_ledger_free(srv->ledger);
	api_guard_free(srv->guard);
	api_read_free(srv->read);
	api_static_free(srv->statics);
	MHD_destroy_response(srv->accepted_reply);
	kafka_producer_free(srv->producer);
	pthread_mutex_destroy(&srv->wait_lock);
	free(srv);
}
