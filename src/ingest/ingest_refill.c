/*
 * See ingest_refill.h. One request at a time: asks that arrive while a
 * query is in flight fold into one more query after it, which is all the
 * broker thread needs to look at the queue again.
 */
#include "base/common.h"
#include "base/log.h"
#include "ingest/ingest_refill.h"

#include <pthread.h>

/* How long a query may wait for the broker. The answer itself is not
 * used; a broker that does not answer makes ingest_refill_free wait this
 * long at most. */
#define QUERY_TIMEOUT_MS 500

struct ingest_refill {
	rd_kafka_t *consumer;
	const char *topic;
	_Atomic int64_t *count;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t asked; /* wanted or stop set */
	int wanted;           /* a query is asked for */
	int32_t partition;    /* the partition of the last ask */
	int stop;
};

static void *refill_main(void *arg)
{
	struct ingest_refill *r = arg;

	pthread_mutex_lock(&r->mu);
	for (;;) {
		int32_t partition;
		int64_t lo, hi;

		while (!r->wanted && !r->stop)
			pthread_cond_wait(&r->asked, &r->mu);
		if (r->stop)
			break;
		r->wanted = 0;
		partition = r->partition;
		pthread_mutex_unlock(&r->mu);
		/* The broker's answer does not matter: sending the request is
		 * what wakes the broker thread. */
		(void)rd_kafka_query_watermark_offsets(r->consumer, r->topic, partition, &lo, &hi,
		                                       QUERY_TIMEOUT_MS);
		(*r->count)++;
		pthread_mutex_lock(&r->mu);
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

int ingest_refill_new(rd_kafka_t *consumer, const char *topic, _Atomic int64_t *count,
                      struct ingest_refill **out, struct ts_err *err)
{
	struct ingest_refill *r = calloc(1, sizeof(*r));

	*out = NULL;
	if (!r)
		return ts_err_set(err, TS_ENOMEM, "out of memory");
	r->consumer = consumer;
	r->topic = topic;
	r->count = count;
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->asked, NULL);
	if (pthread_create(&r->thread, NULL, refill_main, r)) {
		pthread_cond_destroy(&r->asked);
		pthread_mutex_destroy(&r->mu);
		free(r);
		return ts_err_set(err, TS_ENOMEM, "cannot start the fetch refill thread");
	}
	*out = r;
	return 0;
}

void ingest_refill_ask(struct ingest_refill *r, int32_t partition)
{
	pthread_mutex_lock(&r->mu);
	r->wanted = 1;
	r->partition = partition;
	pthread_cond_signal(&r->asked);
	pthread_mutex_unlock(&r->mu);
}

void ingest_refill_free(struct ingest_refill *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->mu);
	r->stop = 1;
	pthread_cond_signal(&r->asked);
	pthread_mutex_unlock(&r->mu);
	pthread_join(r->thread, NULL);
	pthread_cond_destroy(&r->asked);
	pthread_mutex_destroy(&r->mu);
	free(r);
}
