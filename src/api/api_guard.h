/*
 * The slow-client guard: a connection must deliver each request whole —
 * head and body — within api.idle-timeout-s of being accepted or of its
 * previous response. libmicrohttpd's own timeout only measures silence, so
 * a client that dribbles a byte now and then (slowloris) would otherwise
 * hold its connection, and one of api.max-connections, for hours.
 *
 * A connection over its deadline is shut down (shutdown(2) on its socket);
 * libmicrohttpd then sees the end of the stream and closes it itself. The
 * socket is never closed here, and a connection leaves the guard (under its
 * lock) before libmicrohttpd closes the socket, so a reused descriptor is
 * never touched. A request waiting for Kafka is not the client's fault and
 * is not timed here (api_wait.c gives it its own deadline).
 *
 * Thread-safe: the hooks run on libmicrohttpd's threads, the sweep on the
 * guard's own.
 */
#ifndef API_API_GUARD_H
#define API_API_GUARD_H

#include <microhttpd.h>
#include <stdint.h>

struct api_guard;

/* Starts the sweeping thread; timeout_s > 0. */
int api_guard_new(int64_t timeout_s, struct api_guard **out);
/* Stops the thread; call after the daemon is stopped. NULL is a no-op. */
void api_guard_free(struct api_guard *g);

/* MHD_OPTION_NOTIFY_CONNECTION callback; cls is the guard. */
void api_guard_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                      enum MHD_ConnectionNotificationCode toe);

/* The request on conn has arrived whole: stop its clock. */
void api_guard_received(struct api_guard *g, struct MHD_Connection *conn);
/* The response on conn is done: the clock runs for the next request. */
void api_guard_completed(struct api_guard *g, struct MHD_Connection *conn);

/* Connections shut down for being too slow, since start. */
uint64_t api_guard_shut_total(const struct api_guard *g);

#endif
