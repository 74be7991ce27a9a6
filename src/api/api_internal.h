/*
 * Shared between the api's modules (server glue and ingest handlers); not an
 * interface for anything outside src/api.
 *
 * A struct api_request is reference-counted: one reference for
 * libmicrohttpd (dropped at its request-completed notice), one while any of
 * its records awaits a delivery report, and one while it sits on the
 * server's wait list (dropped when the last report arrives or its deadline
 * passes). `lock` guards refs, waiting, suspended and the item statuses;
 * `srv->wait_lock` guards the list links. When both are held, req->lock is
 * taken first (only when listing a request); never the other way round.
 */
#ifndef API_API_INTERNAL_H
#define API_API_INTERNAL_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>

#include "api/api_metrics.h"
#include "base/config.h"
#include "base/dbuf.h"
#include "event/event.h"
#include "base/text.h"
#include "kafka/kafka_producer.h"

struct api_accepted;
struct api_ledger;
struct api_read;
struct api_static;
struct api_guard;

struct api_server {
	struct MHD_Daemon *daemon;
	struct kafka_producer *producer;
	struct api_read *read;               /* GET /api/... (api_read.c) */
	struct api_static *statics;          /* the dashboard's files (api_static.c), or NULL */
	struct api_guard *guard;             /* the slow-client guard (api_guard.c) */
	struct MHD_Response *accepted_reply; /* the shared 202 of POST /play */
	struct api_accepted *accepted;       /* the ledger's 202 counts (api_accepted.c) */
	struct api_ledger *ledger;           /* GET /api/ledger (api_ledger.c) */
	const struct ts_config *cfg;
	int port;
	atomic_llong pending_events;
	atomic_llong buffered_bytes;
	atomic_llong open_requests;
	atomic_llong inflight; /* ingest requests with a whole body, not yet answered */
	atomic_int draining;   /* set by api_server_drain; refuses new work */
	pthread_mutex_t wait_lock;
	struct api_request *wait_head;
	pthread_t reaper;
	atomic_int reaper_stop;
};

struct api_item {
	struct api_request *req;
	short status;       /* 0 sent and waiting, 202, 400 or 503 */
	signed char region; /* api_accepted_note: region index, -1 unknown */
	unsigned err_off;   /* for 400: the error JSON in req->errors */
	unsigned err_len;
	int32_t hour; /* api_accepted_note: event hour since the epoch */
};

enum api_phase { PHASE_BODY, PHASE_WAITING, PHASE_DONE };

struct api_request {
	struct api_server *srv;
	struct MHD_Connection *conn;
	enum api_route_id route;
	int read_ep; /* enum api_read_ep of a read route */
	enum api_phase phase;
	int fresh;    /* made by the URI callback, not yet routed */
	int path_nul; /* the raw path has a %00 */
	char *query;  /* raw query string (after '?'), NULL when none */
	size_t query_len;
	struct dbuf body;
	int too_large;
	int over_buffer;
	int inflight; /* counted in srv->inflight */
	int64_t t0_us;
	pthread_mutex_t lock;
	int refs;
	int waiting;
	int suspended;
	int listed;
	int64_t deadline_us;
	struct api_request *wait_prev, *wait_next;
	size_t nitems;
	struct api_item *items;
	struct dbuf errors;
};

/* A handler's answer: status, body (JSON unless content_type says), and an
 * optional Retry-After. */
struct api_reply {
	int status;
	struct dbuf body;
	const char *content_type;
	const char *retry_after;
	const char *allow;
	int close; /* ask the client to close the connection */
	/* Read API and static files: */
	const char *cache_control; /* default "no-store" */
	char filename[80];         /* "" or an attachment's file name */
	char etag[24];             /* "" or a quoted entity tag */
	int file_fd;               /* with has_file: the body is this file (taken) */
	int has_file;
	uint64_t file_size;
};

/* Ingest (api_ingest.c). Either fills reply, or returns 1 after suspending
 * the connection to wait for delivery reports. */
int api_ingest_start(struct api_request *req, const char *content_type, struct api_reply *reply);
/* Builds the reply once every delivery report has arrived. */
void api_ingest_finish(struct api_request *req, struct api_reply *reply);
/* The producer's delivery callback. */
void api_ingest_on_delivery(void *msg_opaque, int rc);

/* Drops one reference; the last one frees req. */
void api_request_unref(struct api_request *req);

/* The wait list (api_wait.c): requests suspended for delivery reports, each
 * answered 503 for its unacknowledged records once kafka.produce-timeout-ms
 * has passed, however long librdkafka itself takes to give up. */
int api_wait_start(struct api_server *srv);
void api_wait_stop(struct api_server *srv);
/* req holds a reference for the list already. */
void api_wait_add(struct api_server *srv, struct api_request *req);
/* Unlinks req if listed, dropping the list's reference. */
void api_wait_remove(struct api_server *srv, struct api_request *req);

/* A small JSON error body {"error": what, "detail": detail}. */
void api_reply_error(struct api_reply *reply, int status, const char *what, const char *detail);

/* Sets reply->etag from a hash of what the body depends on and, when the
 * request's If-None-Match names it, turns the reply into an empty 304. */
void api_reply_etag(struct api_request *req, struct api_reply *reply, uint64_t hash);

/* The route table, for the OpenAPI document: route i's path and method. */
size_t api_route_count(void);
void api_route_get(size_t i, const char **path, const char **method);

#endif
