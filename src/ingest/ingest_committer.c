/*
 * See ingest_committer.h. The queue is a ring of sealed batches under one
 * mutex. WRITERS threads write the batches' files, each taking the oldest
 * batch no one has taken, several batches at once; the committer thread
 * takes the oldest batch once its files are written, syncs, commits and
 * publishes it outside the lock, and removes it from the ring only when
 * done, so that "drained" includes the batch in hand. A batch's record
 * bytes leave the memory bound once its files are written.
 */
#include "base/common.h"
#include "base/failpoint.h"
#include "base/fsutil.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "db/db.h"
#include "ingest/ingest_commit.h"
#include "ingest/ingest_committer.h"
#include "store/store.h"

#include <pthread.h>

/* Sealed batches waiting at most: the bytes bound (ingest.buffer-kbytes)
 * is what limits memory; this only sizes the ring. */
#define QUEUE_MAX 64

/* The batch's dead letters must be in Kafka before its offsets commit. A
 * broker outage only delays that: ingest can make no progress meanwhile
 * anyway, and riding it out beats a restart. The bound is librdkafka's own
 * default delivery timeout (message.timeout.ms). */
#define DLQ_WAIT_S 300

/* Threads writing batches' files (rows to Parquet: dictionaries, encoding,
 * ZSTD). Two keep both of a 2-core machine's cores busy at the end of a
 * backlog, when the main thread has read everything and the last batches
 * are still to be written (docs/ingest.md, "Throughput"). */
#define WRITERS 2

/* A ring slot: a batch and how far its files are. */
enum slot_state { QUEUED, WRITING, WRITTEN };

struct slot {
	struct ingest_job job;
	enum slot_state state;
	int rc; /* 0, or why its files could not be written (and err) */
	struct ts_err err;
};

struct writer {
	struct ingest_committer *c;
	struct ingest_lake lake; /* an object store's connection is per thread */
	pthread_t thread;
	int started;
};

struct ingest_committer {
	const struct ts_config *cfg;
	struct ingest_stats *stats;
	rd_kafka_t *dlq;
	struct db *db;
	struct ingest_lake lake;
	pthread_t thread;
	int started;
	struct writer writers[WRITERS];
	pthread_mutex_t mu;
	pthread_cond_t changed; /* a batch queued, written or finished, or stop */
	pthread_mutex_t dbmu;   /* ingest_committer_lock_db */
	pthread_mutex_t dlqmu;  /* ingest_committer_lock_dlq */
	struct slot ring[QUEUE_MAX];
	int head, count;       /* ring[head] is the oldest, being committed once taken */
	_Atomic int64_t bytes; /* record bytes of the ring's batches not yet written */
	int stop;
	_Atomic int failed; /* read without the lock by ingest_committer_failed */
	struct ts_err err;
};

/* Drops a batch that will not be committed: its files and staging folder
 * (its records are consumed again). */
static void job_drop(struct ingest_job *job, const struct ingest_lake *lake)
{
	struct ts_err err;

	for (int i = 0; i < job->nfiles; i++)
		ingest_file_abort(&job->files[i]);
	free(job->files);
	job->files = NULL;
	job->nfiles = 0;
	if (job->dir[0] && ingest_discard_batch(lake, job->dir, &err))
		log_warn("cannot remove staging leftovers", "partition=%d %s", (int)job->partition,
		         err.msg);
}

/* rd_kafka_flush waits for every dead letter queued so far, of later
 * batches too; the main thread queues no more meanwhile (dlqmu), or a
 * stream of bad records could keep the count above zero for ever. */
static int wait_dead_letters(struct ingest_committer *c, struct ts_err *err)
{
	for (int s = 0; s < DLQ_WAIT_S; s++) {
		rd_kafka_resp_err_t e;

		pthread_mutex_lock(&c->dlqmu);
		e = rd_kafka_flush(c->dlq, 1000);
		pthread_mutex_unlock(&c->dlqmu);
		if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
			return 0;
		if (s % 15 == 14)
			log_warn("waiting for the broker to acknowledge dead-letter records",
			         "seconds=%d queued=%d", s + 1, rd_kafka_outq_len(c->dlq));
	}
	return ts_err_set(err, TS_EUNAVAIL, "dead-letter records not acknowledged in %d s",
	                  DLQ_WAIT_S);
}

/* Orders a batch's files by (hour, region), the key of their lake_hours
 * rows, so that every ingest process upserts those rows in one order: two
 * processes committing batches over the same hours in opposite orders
 * deadlocked in PostgreSQL (seen with two processes in bench/ingest.sh). */
static int file_order(const void *a, const void *b)
{
	const struct ingest_file *x = a, *y = b;

	if (x->hour_key != y->hour_key)
		return x->hour_key < y->hour_key ? -1 : 1;
	return strcmp(x->region, y->region);
}

/* Writes the batch's files (a local lake's to their staging paths, not yet
 * durable; an object store's uploaded to their staging keys). */
static int write_files(struct ingest_job *job, const struct ingest_lake *lake, struct ts_err *err)
{
	int rc = 0;

	for (int i = 0; !rc && i < job->nfiles; i++)
		rc = ingest_file_close(&job->files[i], lake, err);
	return rc;
}

/* The oldest batch no writer has taken, or NULL. */
static struct slot *next_to_write(struct ingest_committer *c)
{
	for (int i = 0; i < c->count; i++) {
		struct slot *s = &c->ring[(c->head + i) % QUEUE_MAX];

		if (s->state == QUEUED)
			return s;
	}
	return NULL;
}

static void *write_batches(void *arg)
{
	struct writer *w = arg;
	struct ingest_committer *c = w->c;

	pthread_mutex_lock(&c->mu);
	for (;;) {
		struct slot *s;
		int64_t t0;
		int failed;

		while (!(s = next_to_write(c)) && !c->stop)
			pthread_cond_wait(&c->changed, &c->mu);
		if (c->stop)
			break;
		s->state = WRITING;
		failed = c->failed;
		pthread_mutex_unlock(&c->mu);
		t0 = time_mono_us();
		/* A batch after a failed one, or one whose first record failed
		 * to be filed, is dropped by the committer unwritten. */
		s->rc = failed || s->job.last < s->job.first
		            ? 0
		            : write_files(&s->job, &w->lake, &s->err);
		c->stats->commit_us += time_mono_us() - t0;
		pthread_mutex_lock(&c->mu);
		/* Its rows are in its files now (or it is to be dropped), its
		 * blocks freed: its bytes leave the memory bound
		 * (ingest.buffer-kbytes) at once, so that a main thread
		 * waiting on the bound goes on reading while the committer
		 * waits for fsyncs, PostgreSQL and the publication. */
		c->bytes -= s->job.bytes;
		s->job.bytes = 0;
		s->state = WRITTEN;
		pthread_cond_broadcast(&c->changed);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

/* Syncs the batch's written files, waits for its dead letters, commits,
 * publishes. Before the commit, a failure discards the batch (its records
 * will be consumed again); after it, the committed files stay staged and
 * are published by the next ingest_publish. */
static int commit_job(struct ingest_committer *c, struct ingest_job *job, struct ts_err *err)
{
	struct ingest_batch b = {&c->lake,
	                         c->cfg->kafka_topic,
	                         job->partition,
	                         job->first,
	                         job->last,
	                         job->files,
	                         job->nfiles,
	                         job->max_ts_us,
	                         c->cfg->ingest_lateness_s,
	                         0};
	int64_t t0 = time_mono_us();
	int rc = ingest_files_sync(job->files, job->nfiles, &c->lake, err);

	rc = rc ? rc : wait_dead_letters(c, err);
	if (!rc) {
		qsort(job->files, (size_t)job->nfiles, sizeof(*job->files), file_order);
		failpoint("ingest.staged");
		pthread_mutex_lock(&c->dbmu);
		rc = ingest_commit(c->db, &b, err);
		pthread_mutex_unlock(&c->dbmu);
	}
	if (rc) {
		job_drop(job, &c->lake);
		return rc;
	}
	failpoint("ingest.committed");
	c->stats->commits++;
	c->stats->files += job->nfiles;
	c->stats->rows += job->rows;
	c->stats->late += b.late_rows;
	for (int i = 0; i < job->nfiles; i++)
		c->stats->bytes += job->files[i].bytes;
	log_debug("committed", "partition=%d offsets=%lld..%lld rows=%lld files=%d",
	          (int)job->partition, (long long)job->first, (long long)job->last,
	          (long long)job->rows, job->nfiles);
	free(job->files);
	job->files = NULL;
	job->nfiles = 0;
	pthread_mutex_lock(&c->dbmu);
	rc = ingest_publish(c->db, &c->lake, c->cfg->kafka_topic, job->partition, job->dir, err);
	pthread_mutex_unlock(&c->dbmu);
	c->stats->commit_us += time_mono_us() - t0;
	if (!rc)
		c->stats->last_commit_us = time_now_us();
	return rc;
}

static void *run(void *arg)
{
	struct ingest_committer *c = arg;

	pthread_mutex_lock(&c->mu);
	for (;;) {
		struct slot *s;
		struct ts_err err = {0};
		int rc = 0, failed;

		while (!(c->count && c->ring[c->head].state == WRITTEN) && !c->stop)
			pthread_cond_wait(&c->changed, &c->mu);
		if (c->stop)
			break;
		s = &c->ring[c->head];
		failed = c->failed;
		pthread_mutex_unlock(&c->mu);
		/* Never commit past a failed batch; nor a batch whose first
		 * record failed to be filed (its offsets would be [first, -1]),
		 * nor one whose files could not be written. */
		if (failed || s->job.last < s->job.first || s->rc) {
			job_drop(&s->job, &c->lake);
			rc = s->rc;
			err = s->err;
		} else {
			rc = commit_job(c, &s->job, &err);
		}
		pthread_mutex_lock(&c->mu);
		if (rc && !c->failed) {
			c->err = err;
			c->failed = 1;
		}
		c->head = (c->head + 1) % QUEUE_MAX;
		c->count--;
		pthread_cond_broadcast(&c->changed);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

/* The topic's staging folder in a local lake, made (durably) before the
 * writers start: two writers making it for their first batches at once,
 * the one that found it made would go on before the other had synced its
 * entry, and its batch could commit files a crash might then lose. */
static int make_staging_dir(struct ingest_committer *c, struct ts_err *err)
{
	char path[INGEST_PATH_MAX * 2];

	if (!c->lake.root)
		return 0;
	snprintf(path, sizeof(path), "%s/_staging/%s", c->lake.root, c->cfg->kafka_topic);
	return fs_mkdirs(path, err);
}

int ingest_committer_start(const struct ts_config *cfg, struct ingest_stats *stats, rd_kafka_t *dlq,
                           struct ingest_committer **out, struct ts_err *err)
{
	struct ingest_committer *c = calloc(1, sizeof(*c));
	int rc;

	if (!c)
		return ts_err_set(err, TS_ENOMEM, "out of memory");
	c->cfg = cfg;
	c->stats = stats;
	c->dlq = dlq;
	pthread_mutex_init(&c->mu, NULL);
	pthread_mutex_init(&c->dbmu, NULL);
	pthread_mutex_init(&c->dlqmu, NULL);
	pthread_cond_init(&c->changed, NULL);
	rc = db_connect(cfg, (int)cfg->check_timeout_ms, &c->db, err);
	rc = rc ? rc : ingest_lake_open(cfg, &c->lake, err);
	rc = rc ? rc : make_staging_dir(c, err);
	if (!rc && pthread_create(&c->thread, NULL, run, c))
		rc = ts_err_set(err, TS_ENOMEM, "cannot start the committer thread");
	c->started = !rc;
	for (int i = 0; !rc && i < WRITERS; i++) {
		struct writer *w = &c->writers[i];

		w->c = c;
		rc = ingest_lake_open(cfg, &w->lake, err);
		if (!rc && pthread_create(&w->thread, NULL, write_batches, w))
			rc = ts_err_set(err, TS_ENOMEM, "cannot start a writer thread");
		w->started = !rc;
	}
	if (rc) {
		ingest_committer_stop(c);
		return rc;
	}
	*out = c;
	return 0;
}

int ingest_committer_failed(struct ingest_committer *c, struct ts_err *err)
{
	int rc = 0;

	if (!c->failed) /* for every record: no lock while all is well */
		return 0;
	pthread_mutex_lock(&c->mu);
	if (c->failed) {
		*err = c->err;
		rc = err->code ? err->code : TS_EFAILED;
	}
	pthread_mutex_unlock(&c->mu);
	return rc;
}

int ingest_committer_push(struct ingest_committer *c, struct ingest_job *job, struct ts_err *err)
{
	/* Queued even after a failure: the committer thread drops it then
	 * (the writers skip it), so that only the committer's threads use
	 * their lakes (an object store's connection is not shared between
	 * threads). */
	struct slot *s;

	pthread_mutex_lock(&c->mu);
	while (c->count == QUEUE_MAX)
		pthread_cond_wait(&c->changed, &c->mu);
	s = &c->ring[(c->head + c->count) % QUEUE_MAX];
	s->job = *job;
	s->state = QUEUED;
	s->rc = 0;
	c->count++;
	c->bytes += job->bytes;
	job->files = NULL;
	job->nfiles = 0;
	pthread_cond_broadcast(&c->changed);
	pthread_mutex_unlock(&c->mu);
	return ingest_committer_failed(c, err);
}

int ingest_committer_drain(struct ingest_committer *c, struct ts_err *err)
{
	/* After a failure too: the batches left are dropped (quickly) before
	 * a revoked partition is let go, so that no staging folder of ours is
	 * removed once another process may use the same name. */
	pthread_mutex_lock(&c->mu);
	while (c->count)
		pthread_cond_wait(&c->changed, &c->mu);
	pthread_mutex_unlock(&c->mu);
	return ingest_committer_failed(c, err);
}

int ingest_committer_holds(struct ingest_committer *c, int32_t partition)
{
	int holds = 0;

	pthread_mutex_lock(&c->mu);
	holds = c->failed;
	for (int i = 0; i < c->count && !holds; i++)
		holds = c->ring[(c->head + i) % QUEUE_MAX].job.partition == partition;
	pthread_mutex_unlock(&c->mu);
	return holds;
}

void ingest_committer_wait_one(struct ingest_committer *c)
{
	pthread_mutex_lock(&c->mu);
	if (c->count && !c->failed) {
		int head = c->head, count = c->count;
		int64_t bytes = c->bytes;

		while (c->head == head && c->count == count && c->bytes == bytes && !c->failed)
			pthread_cond_wait(&c->changed, &c->mu);
	}
	pthread_mutex_unlock(&c->mu);
}

int64_t ingest_committer_bytes(struct ingest_committer *c)
{
	return c->bytes; /* read for every record: no lock */
}

void ingest_committer_lock_db(struct ingest_committer *c)
{
	pthread_mutex_lock(&c->dbmu);
}

void ingest_committer_unlock_db(struct ingest_committer *c)
{
	pthread_mutex_unlock(&c->dbmu);
}

void ingest_committer_lock_dlq(struct ingest_committer *c)
{
	pthread_mutex_lock(&c->dlqmu);
}

void ingest_committer_unlock_dlq(struct ingest_committer *c)
{
	pthread_mutex_unlock(&c->dlqmu);
}

void ingest_committer_stop(struct ingest_committer *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->mu);
	c->stop = 1;
	pthread_cond_broadcast(&c->changed);
	pthread_mutex_unlock(&c->mu);
	if (c->started)
		pthread_join(c->thread, NULL);
	for (int i = 0; i < WRITERS; i++) {
		if (c->writers[i].started)
			pthread_join(c->writers[i].thread, NULL);
		store_free(c->writers[i].lake.store);
	}
	for (; c->count; c->count--, c->head = (c->head + 1) % QUEUE_MAX)
		job_drop(&c->ring[c->head].job, &c->lake);
	db_free(c->db);
	store_free(c->lake.store);
	pthread_cond_destroy(&c->changed);
	pthread_mutex_destroy(&c->dbmu);
	pthread_mutex_destroy(&c->dlqmu);
	pthread_mutex_destroy(&c->mu);
	free(c);
}
