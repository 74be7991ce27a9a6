/*
 * See api_guard.h. Connections live in one doubly linked list under one
 * mutex; the sweep walks it four times a second. With api.max-connections
 * at 4,096 that is a few microseconds of work per sweep.
 */
#include "base/common.h"
#include "api/api_guard.h"
#include "base/error.h"
#include "base/log.h"
#include "base/timeutil.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>

#define SWEEP_MS 250

/* waiting and deadline_us are written by the connection's thread without
 * the lock (the hot path), read by the sweep under it; the list links and
 * shut only change under the lock. */
struct guarded {
	int fd;
	atomic_int waiting; /* a request arrived whole and is being answered */
	atomic_llong deadline_us;
	int shut;
	struct guarded *prev, *next;
};

struct api_guard {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct guarded head; /* sentinel of a circular list */
	int64_t timeout_us;
	int stop;
	pthread_t thread;
	atomic_uint_fast64_t shut_total;
};

static void sweep(struct api_guard *g)
{
	int64_t now = time_mono_us();

	pthread_mutex_lock(&g->lock);
	for (struct guarded *c = g->head.next; c != &g->head; c = c->next) {
		if (atomic_load(&c->waiting) || c->shut || now < atomic_load(&c->deadline_us))
			continue;
		c->shut = 1;
		shutdown(c->fd, SHUT_RDWR);
		atomic_fetch_add(&g->shut_total, 1);
	}
	pthread_mutex_unlock(&g->lock);
}

static void *guard_loop(void *arg)
{
	struct api_guard *g = arg;
	struct timespec ts;

	pthread_mutex_lock(&g->lock);
	while (!g->stop) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += SWEEP_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&g->wake, &g->lock, &ts);
		if (g->stop)
			break;
		pthread_mutex_unlock(&g->lock);
		sweep(g);
		pthread_mutex_lock(&g->lock);
	}
	pthread_mutex_unlock(&g->lock);
	return NULL;
}

int api_guard_new(int64_t timeout_s, struct api_guard **out)
{
	struct api_guard *g = calloc(1, sizeof(*g));

	if (!g)
		return TS_ENOMEM;
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->wake, NULL);
	g->head.next = g->head.prev = &g->head;
	g->timeout_us = timeout_s * TIME_US_PER_SEC;
	if (pthread_create(&g->thread, NULL, guard_loop, g)) {
		pthread_cond_destroy(&g->wake);
		pthread_mutex_destroy(&g->lock);
		free(g);
		return TS_ENOMEM;
	}
	*out = g;
	return 0;
}

void api_guard_free(struct api_guard *g)
{
	if (!g)
		return;
	pthread_mutex_lock(&g->lock);
	g->stop = 1;
	pthread_cond_signal(&g->wake);
	pthread_mutex_unlock(&g->lock);
	pthread_join(g->thread, NULL);
	/* The daemon is stopped: every connection was closed and left. */
	pthread_cond_destroy(&g->wake);
	pthread_mutex_destroy(&g->lock);
	free(g);
}

static struct guarded *of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

void api_guard_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                      enum MHD_ConnectionNotificationCode toe)
{
	struct api_guard *g = cls;
	struct guarded *c = *socket_context;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
		    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);

		c = ci ? calloc(1, sizeof(*c)) : NULL;
		if (!c)
			return; /* unguarded: the idle timeout still applies */
		c->fd = ci->connect_fd;
		atomic_store(&c->deadline_us, time_mono_us() + g->timeout_us);
		pthread_mutex_lock(&g->lock);
		c->next = g->head.next;
		c->prev = &g->head;
		g->head.next->prev = c;
		g->head.next = c;
		pthread_mutex_unlock(&g->lock);
		*socket_context = c;
	} else if (toe == MHD_CONNECTION_NOTIFY_CLOSED && c) {
		pthread_mutex_lock(&g->lock);
		c->prev->next = c->next;
		c->next->prev = c->prev;
		pthread_mutex_unlock(&g->lock);
		free(c);
		*socket_context = NULL;
	}
}

void api_guard_received(struct api_guard *g, struct MHD_Connection *conn)
{
	struct guarded *c = of(conn);

	(void)g;
	if (c)
		atomic_store(&c->waiting, 1);
}

void api_guard_completed(struct api_guard *g, struct MHD_Connection *conn)
{
	struct guarded *c = of(conn);

	if (!c)
		return;
	atomic_store(&c->deadline_us, time_mono_us() + g->timeout_us);
	atomic_store(&c->waiting, 0);
}

uint64_t api_guard_shut_total(const struct api_guard *g)
{
	return g ? atomic_load(&((struct api_guard *)g)->shut_total) : 0;
}
