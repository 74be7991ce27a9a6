/*
 * Deadlines for suspended ingest requests. librdkafka gives up on a record
 * only some seconds after message.timeout.ms when the broker is gone, so the
 * api keeps its own promise: a thread wakes every 50 ms and resumes each
 * request whose deadline has passed; its unacknowledged records are then
 * answered 503 (a later acknowledgement cannot turn that into a 202, and a
 * client retry with the same event_id is collapsed downstream).
 */
#include "base/common.h"
#include "api/api_internal.h"
#include "base/timeutil.h"

#include <unistd.h>

static void unlink_locked(struct api_server *srv, struct api_request *req)
{
	if (req->wait_prev)
		req->wait_prev->wait_next = req->wait_next;
	else
		srv->wait_head = req->wait_next;
	if (req->wait_next)
		req->wait_next->wait_prev = req->wait_prev;
	req->wait_prev = req->wait_next = NULL;
	req->listed = 0;
}

void api_wait_add(struct api_server *srv, struct api_request *req)
{
	pthread_mutex_lock(&srv->wait_lock);
	req->wait_prev = NULL;
	req->wait_next = srv->wait_head;
	if (srv->wait_head)
		srv->wait_head->wait_prev = req;
	srv->wait_head = req;
	req->listed = 1;
	pthread_mutex_unlock(&srv->wait_lock);
}

void api_wait_remove(struct api_server *srv, struct api_request *req)
{
	int was_listed;

	pthread_mutex_lock(&srv->wait_lock);
	was_listed = req->listed;
	if (was_listed)
		unlink_locked(srv, req);
	pthread_mutex_unlock(&srv->wait_lock);
	if (was_listed)
		api_request_unref(req);
}

/* Unlinks up to max expired requests into out; their list references move
 * to the caller. */
static size_t take_expired(struct api_server *srv, int64_t now, struct api_request **out,
                           size_t max)
{
	struct api_request *req, *next;
	size_t n = 0;

	pthread_mutex_lock(&srv->wait_lock);
	for (req = srv->wait_head; req && n < max; req = next) {
		next = req->wait_next;
		if (req->deadline_us <= now) {
			unlink_locked(srv, req);
			out[n++] = req;
		}
	}
	pthread_mutex_unlock(&srv->wait_lock);
	return n;
}

static void *reaper_loop(void *arg)
{
	struct api_server *srv = arg;
	struct api_request *expired[256];

	while (!atomic_load(&srv->reaper_stop)) {
		size_t n = take_expired(srv, time_mono_us(), expired, ARRAY_SIZE(expired));

		for (size_t i = 0; i < n; i++) {
			struct api_request *req = expired[i];

			pthread_mutex_lock(&req->lock);
			if (req->suspended) {
				req->suspended = 0;
				MHD_resume_connection(req->conn);
			}
			pthread_mutex_unlock(&req->lock);
			api_request_unref(req);
		}
		if (n < ARRAY_SIZE(expired))
			usleep(50000);
	}
	return NULL;
}

int api_wait_start(struct api_server *srv)
{
	atomic_store(&srv->reaper_stop, 0);
	return pthread_create(&srv->reaper, NULL, reaper_loop, srv) ? TS_ENOMEM : 0;
}

void api_wait_stop(struct api_server *srv)
{
	atomic_store(&srv->reaper_stop, 1);
	pthread_join(srv->reaper, NULL);
}
