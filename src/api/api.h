/*
 * The HTTP api server (libmicrohttpd): ingest endpoints POST /play and
 * POST /plays, GET /healthz, /readyz and /metrics. Routes are one table in
 * api_server.c.
 *
 * Lifecycle: api_server_start binds and serves on its own threads;
 * api_server_drain stops accepting new connections, waits for in-flight
 * requests and the producer, and api_server_free releases everything.
 * Both are called from the thread that started the server.
 */
#ifndef API_API_H
#define API_API_H

#include "base/config.h"
#include "base/error.h"

struct api_server;

/* cfg must outlive the server. Returns 0, TS_EINVAL (bad address or
 * setting) or TS_EIO (cannot bind). */
int api_server_start(const struct ts_config *cfg, struct api_server **out, struct ts_err *err);

/* The port actually bound (useful with api.listen port 0). */
int api_server_port(const struct api_server *srv);

/* Stops accepting, waits up to timeout_ms for in-flight requests and queued
 * records. Returns 0, or TS_ETIMEDOUT if some were still pending (they are
 * then answered 503 by api_server_free, never 202). */
int api_server_drain(struct api_server *srv, int timeout_ms);

/* NULL is a no-op. */
void api_server_free(struct api_server *srv);

#endif
