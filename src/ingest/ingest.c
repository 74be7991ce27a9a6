/*
 * The ingest loop: consume, route each record to the open file of its
 * (region, date, hour) within its partition's batch, and seal a batch —
 * hand it to the committer thread (ingest_committer.h) — when it is old
 * (ingest.flush-ms, checked even when no record arrives), when its
 * partition has gone quiet (ingest.quiet-ms), large
 * (ingest.max-rows) or spread over too many files, and before a partition
 * is revoked, which waits until it is committed. Offsets live in
 * PostgreSQL, not in Kafka: on assignment each partition is sought to its
 * committed next offset.
 */
#include "base/common.h"
#include "base/failpoint.h"
#include "base/fsutil.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "db/db.h"
#include "ingest/ingest.h"
#include "ingest/ingest_commit.h"
#include "ingest/ingest_committer.h"
#include "ingest/ingest_compact.h"
#include "ingest/ingest_metrics.h"
#include "ingest/ingest_refill.h"
#include "kafka/kafka_producer.h"
#include "store/store.h"
#include "store/store_retry.h"

#include <librdkafka/rdkafka.h>
#include <time.h>

#define MAX_PARTITIONS   1024
#define WAKE_WAIT_MIN_US 5000 /* wake_fetcher */
#define REFILL_EVERY     256  /* records taken between two looks at the queue (refill) */
#define REFILL_GAP_US    2000 /* refill */
#define POLL_BATCH       64   /* messages taken from the queue at once (poll_once) */
#define BACKLOG_RECORDS  1000 /* this far behind the end, a batch works off a backlog */

struct part {
	int active;
	int64_t first, last; /* first < 0: no open batch */
	int64_t opened_us;
	int64_t max_ts_us;
	int64_t bytes;          /* record values taken into the batch */
	int64_t position;       /* next offset to consume; -1: from the beginning */
	int64_t last_record_us; /* wall clock of the last record, or of the assignment */
	int64_t idle_mark_us;   /* when the idle watermark was last moved */
	int64_t starved_us;     /* records waiting at the broker, none fetched, since */
	int64_t wake_wait_us;   /* starved this long before the next wake_fetcher seek */
	int64_t woken_at;       /* the position at the last seek */
	int backlog;            /* the open batch works off a backlog (note_backlog) */
	struct ingest_file *files;
	int nfiles;
	int64_t rows;
	char dir[INGEST_PATH_MAX];
};

struct ingest {
	const struct ts_config *cfg;
	rd_kafka_t *consumer;
	rd_kafka_t *dlq;
	struct db *db;
	struct ingest_lake lake;
	struct part parts[MAX_PARTITIONS];
	struct ingest_stats *stats;
	struct ingest_committer *committer;
	struct event_rules rules;
	int failed;
	struct ts_err fail_err;
	int64_t next_compact_us;
	int64_t next_lag_us;
	int64_t next_age_check_us; /* flush_old looks every 10 ms at most */
	int starving;              /* some partition is (wake_fetcher) */
	int64_t buffered;          /* record values in open batches, all partitions */
	/* The wall clock less the monotonic one, refreshed by flush_old: each
	 * record's wall time is its poll's monotonic reading plus this, one
	 * clock read a record instead of two (the reads were 5 % of the
	 * loop's CPU). */
	int64_t wall_offset_us;
	struct ingest_refill *refill; /* NULL: wake_fetcher's seeks only */
	rd_kafka_queue_t *queue;      /* the consumer's prefetch queue */
	int64_t refill_asked_us;      /* monotonic time of the last ingest_refill_ask */
};

static void fail(struct ingest *in, const struct ts_err *err)
{
	if (!in->failed)
		in->fail_err = *err;
	in->failed = 1;
}

/* Forgets the batch once sealed; the committer owns its files now. */
static void reset_batch(struct ingest *in, struct part *p)
{
	p->files = NULL; /* file_for allocates the next batch's */
	p->nfiles = 0;
	p->first = p->last = -1;
	p->rows = 0;
	p->max_ts_us = 0;
	in->buffered -= p->bytes;
	p->bytes = 0;
	p->backlog = 0;
	p->dir[0] = '\0';
}

/* Hands the partition's open batch to the committer, which closes,
 * commits and publishes it while this thread goes on; the partition starts
 * a new batch with its next record. */
static int seal(struct ingest *in, int32_t partition, struct ts_err *err)
{
	struct part *p = &in->parts[partition];
	struct ingest_job job = {partition,    p->first, p->last,   p->rows, p->bytes,
	                         p->max_ts_us, p->files, p->nfiles, ""};

	if (p->first < 0)
		return 0;
	memcpy(job.dir, p->dir, sizeof(job.dir));
	reset_batch(in, p);
	return ingest_committer_push(in->committer, &job, err);
}

static void dead_letter(struct ingest *in, const rd_kafka_message_t *m, const char *reason)
{
	char part[16], off[24];
	rd_kafka_resp_err_t rc;

	snprintf(part, sizeof(part), "%d", (int)m->partition);
	snprintf(off, sizeof(off), "%lld", (long long)m->offset);
	ingest_committer_lock_dlq(in->committer);
	rc = rd_kafka_producev(
	    in->dlq, RD_KAFKA_V_TOPIC(in->cfg->ingest_dlq_topic),
	    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(m->key, m->key_len),
	    RD_KAFKA_V_VALUE(m->payload, m->len), RD_KAFKA_V_HEADER("reason", reason, -1),
	    RD_KAFKA_V_HEADER("source-partition", part, -1),
	    RD_KAFKA_V_HEADER("source-offset", off, -1), RD_KAFKA_V_END);
	ingest_committer_unlock_dlq(in->committer);
	if (rc) {
		struct ts_err err;

		ts_err_set(&err, TS_EUNAVAIL, "cannot queue a dead-letter record");
		fail(in, &err);
		return;
	}
	in->stats->dead++;
}

static struct ingest_file *file_for(struct ingest *in, int32_t partition,
                                    const struct play_event *ev, struct ts_err *err)
{
	struct part *p = &in->parts[partition];

	for (int i = 0; i < p->nfiles; i++)
		if (ingest_file_matches(&p->files[i], ev))
			return &p->files[i];
	if (!p->files) {
		p->files = calloc((size_t)in->cfg->ingest_max_open_files, sizeof(*p->files));
		if (!p->files) {
			ts_err_set(err, TS_ENOMEM, "out of memory");
			return NULL;
		}
	}
	ingest_file_open(&p->files[p->nfiles], p->dir, ev);
	return &p->files[p->nfiles++];
}

/* Marks partition n's open batch as working off a backlog when offset is
 * BACKLOG_RECORDS or more behind the high watermark librdkafka cached from
 * its last fetch (no broker round trip). Looked at when the batch opens
 * and every REFILL_EVERY records; seal_caught_up acts on it. */
static void note_backlog(struct ingest *in, int32_t n, int64_t offset)
{
	int64_t lo, hi;

	if (in->parts[n].first >= 0 &&
	    !rd_kafka_get_watermark_offsets(in->consumer, in->cfg->kafka_topic, n, &lo, &hi) &&
	    hi - offset >= BACKLOG_RECORDS)
		in->parts[n].backlog = 1;
}

static void start_batch(struct ingest *in, int32_t partition, int64_t offset)
{
	struct part *p = &in->parts[partition];

	p->first = offset;
	p->opened_us = time_mono_us();
	ingest_batch_dir(in->cfg->kafka_topic, partition, offset, p->dir, sizeof(p->dir));
	note_backlog(in, partition, offset);
}

/* The partition whose open batch holds the most record values. Batches are
 * held in memory until their files are written, so their sum is a large
 * part of ingest's memory while it works off a backlog, and would grow with
 * the partitions a process holds: past ingest.buffer-kbytes, the largest
 * is committed early (docs/ingest.md, "Memory"). */
static int32_t largest_batch(const struct ingest *in)
{
	int32_t best = 0;

	for (int32_t i = 1; i < MAX_PARTITIONS; i++)
		if (in->parts[i].bytes > in->parts[best].bytes)
			best = i;
	return best;
}

/* ingest.buffer-kbytes bounds the record bytes of the open batches and of
 * those sealed and not yet committed, together. Past it, the largest open
 * batch is sealed if the open ones hold at least half; otherwise the
 * committer is behind, and this thread waits for it to finish a batch. */
static int bound_memory(struct ingest *in, struct ts_err *err)
{
	int64_t bound = in->cfg->ingest_buffer_kbytes << 10;

	if (in->buffered + ingest_committer_bytes(in->committer) < bound)
		return 0;
	if (in->buffered >= bound / 2)
		return seal(in, largest_batch(in), err);
	ingest_committer_wait_one(in->committer);
	return ingest_committer_failed(in->committer, err);
}

static int take(struct ingest *in, const rd_kafka_message_t *m, struct ts_err *err)
{
	struct part *p = &in->parts[m->partition];
	struct event_error why = {0};
	struct ingest_file *f;
	struct play_event ev;
	char reason[300];

	/* Only a record seen before can come from behind the position (after a
	 * seek by wake_fetcher, say): it is in the batch or committed already. */
	if (p->position >= 0 && m->offset < p->position)
		return 0;
	in->stats->records++;
	p->position = m->offset + 1;
	p->starved_us = 0;
	/* The poll's clock reading (poll_once) serves the event-time bounds,
	 * the idle timer and the ingest_time column alike. */
	p->last_record_us = in->rules.now_us;
	if (event_parse(m->payload, m->len, &in->rules, &ev, &why)) {
		snprintf(reason, sizeof(reason), "%s%s%s%s%s", why.field ? why.field : "",
		         why.field ? ": " : "", why.rule, why.detail[0] ? ": " : "", why.detail);
		if (p->first < 0)
			start_batch(in, m->partition, m->offset);
		dead_letter(in, m, reason);
		p->last = m->offset;
		return 0;
	}
	if (p->first >= 0 && p->nfiles == in->cfg->ingest_max_open_files) {
		int rc = seal(in, m->partition, err);

		if (rc)
			return rc;
	}
	if (p->first < 0)
		start_batch(in, m->partition, m->offset);
	f = file_for(in, m->partition, &ev, err);
	if (!f || ingest_file_append(f, &ev, m->partition, m->offset, in->rules.now_us, err))
		return err->code ? err->code : TS_EIO;
	p->last = m->offset;
	p->rows++;
	if (ev.ts_us > p->max_ts_us)
		p->max_ts_us = ev.ts_us;
	p->bytes += (int64_t)m->len;
	in->buffered += (int64_t)m->len;
	if (p->rows >= in->cfg->ingest_max_rows || p->bytes >= in->cfg->ingest_max_bytes)
		return seal(in, m->partition, err);
	return bound_memory(in, err);
}

static int on_assign(struct ingest *in, rd_kafka_topic_partition_list_t *parts, struct ts_err *err)
{
	for (int i = 0; i < parts->cnt; i++) {
		rd_kafka_topic_partition_t *tp = &parts->elems[i];
		int64_t next = 0;
		int found = 0, rc;

		if (tp->partition < 0 || tp->partition >= MAX_PARTITIONS)
			return ts_err_set(err, TS_EINVAL, "partition %d beyond %d", tp->partition,
			                  MAX_PARTITIONS);
		rc = ingest_register(in->db, tp->topic, tp->partition, err);
		rc = rc ? rc
		        : ingest_publish(in->db, &in->lake, tp->topic, tp->partition, NULL, err);
		rc = rc ? rc
		        : ingest_load_offset(in->db, tp->topic, tp->partition, &next, &found, err);
		if (rc)
			return rc;
		tp->offset = found ? next : RD_KAFKA_OFFSET_BEGINNING;
		in->parts[tp->partition].active = 1;
		in->parts[tp->partition].position = found ? next : -1;
		in->parts[tp->partition].first = -1;
		in->parts[tp->partition].last_record_us = time_now_us();
		in->parts[tp->partition].idle_mark_us = 0;
		in->parts[tp->partition].starved_us = 0;
		in->parts[tp->partition].wake_wait_us = WAKE_WAIT_MIN_US;
		in->parts[tp->partition].woken_at = -1;
		log_info("partition assigned", "partition=%d from_offset=%s%lld", tp->partition,
		         found ? "" : "beginning ", found ? (long long)next : 0LL);
	}
	return 0;
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t e,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
	struct ingest *in = opaque;
	struct ts_err err;

	if (e == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
		if (on_assign(in, parts, &err))
			fail(in, &err);
		rd_kafka_assign(rk, in->failed ? NULL : parts);
		return;
	}
	for (int i = 0; i < parts->cnt; i++) {
		int32_t p = parts->elems[i].partition;

		if (p < 0 || p >= MAX_PARTITIONS || !in->parts[p].active)
			continue;
		if (seal(in, p, &err))
			fail(in, &err);
		in->parts[p].active = 0;
		log_info("partition revoked", "partition=%d", (int)p);
	}
	/* Let go only once everything read from them is committed. */
	if (ingest_committer_drain(in->committer, &err))
		fail(in, &err);
	rd_kafka_assign(rk, NULL);
}

static int open_dlq(struct ingest *in, struct ts_err *err)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char errstr[512];
	int rc = kafka_conf_connection(conf, in->cfg, err);

	rc = rc ? rc : kafka_conf_set(conf, "enable.idempotence", "true", err);
	rc = rc ? rc : kafka_conf_set(conf, "client.id", "topsongs-ingest-dlq", err);
	if (!rc) {
		in->dlq = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
		if (in->dlq)
			return 0;
		rc = ts_err_set(err, TS_EINVAL, "kafka: %s", errstr);
	}
	rd_kafka_conf_destroy(conf);
	return rc;
}

static int open_consumer(struct ingest *in, struct ts_err *err)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_topic_partition_list_t *topics;
	char errstr[512];
	int rc = kafka_conf_connection(conf, in->cfg, err);

	rc = rc ? rc : kafka_conf_set(conf, "group.id", in->cfg->ingest_group, err);
	rc = rc ? rc : kafka_conf_set(conf, "client.id", "topsongs-ingest", err);
	rc = rc ? rc : kafka_conf_set(conf, "enable.auto.commit", "false", err);
	rc = rc ? rc : kafka_conf_set(conf, "auto.offset.reset", "earliest", err);
	rc = rc ? rc : kafka_conf_set(conf, "enable.partition.eof", "false", err);
	/* The prefetch queue (docs/ingest.md, "Catching up"): the high-level
	 * consumer's partitions share one queue, and librdkafka 2.0 waits a
	 * whole second before fetching again once it is full, so its size is
	 * about what a backlog is read at per second. Its count threshold is
	 * set out of the way (100,000 records by default, about 25 MB of
	 * plays), so that the bytes alone bound it. */
	rc = rc ? rc
	        : kafka_conf_set_int(conf, "queued.max.messages.kbytes",
	                             in->cfg->ingest_fetch_queue_kbytes, err);
	rc = rc ? rc : kafka_conf_set(conf, "queued.min.messages", "10000000", err);
	/* Fetch responses of up to 2 MiB a partition instead of 1: half the
	 * fetches, and the broker's CPU over a backlog about halved. A
	 * response can overshoot the prefetch queue's bound by that much a
	 * partition, which the memory target could not afford while open
	 * files held Parquet writers (docs/ingest.md, "Memory"). */
	rc = rc ? rc : kafka_conf_set(conf, "max.partition.fetch.bytes", "2097152", err);
	if (!rc && in->cfg->ingest_instance_id[0])
		rc = kafka_conf_set(conf, "group.instance.id", in->cfg->ingest_instance_id, err);
	rc = rc ? rc
	        : kafka_conf_set_int(conf, "session.timeout.ms", in->cfg->ingest_session_timeout_ms,
	                             err);
	rc = rc ? rc : kafka_conf_set(conf, "heartbeat.interval.ms", "1000", err);
	if (rc) {
		rd_kafka_conf_destroy(conf);
		return rc;
	}
	rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
	rd_kafka_conf_set_opaque(conf, in);
	in->consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
	if (!in->consumer) {
		rd_kafka_conf_destroy(conf);
		return ts_err_set(err, TS_EINVAL, "kafka: %s", errstr);
	}
	rd_kafka_poll_set_consumer(in->consumer);
	topics = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(topics, in->cfg->kafka_topic, RD_KAFKA_PARTITION_UA);
	if (rd_kafka_subscribe(in->consumer, topics))
		rc = ts_err_set(err, TS_EINVAL, "kafka: cannot subscribe to %s",
		                in->cfg->kafka_topic);
	rd_kafka_topic_partition_list_destroy(topics);
	return rc;
}

/* Whether the consumer's cached high watermark of partition n (no broker
 * round trip) says nothing more is waiting past its position. */
static int caught_up(struct ingest *in, int32_t n)
{
	int64_t lo, hi;

	return !rd_kafka_get_watermark_offsets(in->consumer, in->cfg->kafka_topic, n, &lo, &hi) &&
	       in->parts[n].position >= hi;
}

/* Whether partition n has had no record for ingest.quiet-ms and is caught
 * up: the burst it was part of has ended. */
static int quiet(struct ingest *in, int32_t n, int64_t wall_now)
{
	return in->cfg->ingest_quiet_ms &&
	       wall_now - in->parts[n].last_record_us >= in->cfg->ingest_quiet_ms * 1000 &&
	       caught_up(in, n);
}

/* Seals every open batch that worked off a backlog and whose partition has
 * now caught up: the end of a back-fill, a replay or a restart's backlog
 * reaches the lake at once, not ingest.quiet-ms later, and a process that
 * has read everything does not sit idle meanwhile. Called when the prefetch
 * queue is empty. A live stream's batches are never BACKLOG_RECORDS behind
 * and keep waiting for ingest.quiet-ms (or ingest.flush-ms); 0 there turns
 * this off too. */
static int seal_caught_up(struct ingest *in, struct ts_err *err)
{
	if (!in->cfg->ingest_quiet_ms)
		return 0;
	for (int32_t n = 0; n < MAX_PARTITIONS; n++) {
		struct part *p = &in->parts[n];
		int rc;

		if (!p->active || p->first < 0 || !p->backlog || !caught_up(in, n))
			continue;
		in->stats->backlog_seals++;
		if ((rc = seal(in, n, err)))
			return rc;
	}
	return 0;
}

/* Seals every batch that has waited ingest.flush-ms, or whose partition
 * has gone quiet. */
static int flush_old(struct ingest *in, int64_t now, struct ts_err *err)
{
	int64_t max_age = in->cfg->ingest_flush_ms * 1000, wall_now;

	/* Scanning every partition per record would cost more than the record. */
	if (now < in->next_age_check_us)
		return 0;
	in->next_age_check_us = now + 10000;
	wall_now = time_now_us();
	in->wall_offset_us = wall_now - now;

	for (int32_t i = 0; i < MAX_PARTITIONS; i++) {
		struct part *p = &in->parts[i];

		if (p->active && p->first >= 0 &&
		    (now - p->opened_us >= max_age || quiet(in, i, wall_now))) {
			int rc = seal(in, i, err);

			if (rc)
				return rc;
		}
	}
	return 0;
}

/* A partition caught up and quiet for ingest.idle-timeout-s lets its
 * watermark follow the clock (ingest_idle_advance), every few seconds while
 * it stays idle, so quiet partitions do not hold hours open forever. */
static void advance_if_idle(struct ingest *in, const char *topic, int32_t n, int caught_up,
                            int64_t now)
{
	int64_t idle_us = in->cfg->ingest_idle_timeout_s * TIME_US_PER_SEC;
	struct part *p = &in->parts[n];
	struct ts_err err;
	int rc;

	if (!idle_us || !caught_up || !p->active || p->first >= 0 ||
	    now - p->last_record_us < idle_us || now - p->idle_mark_us < 5 * TIME_US_PER_SEC)
		return;
	/* A sealed batch not yet committed would land in hours closed early. */
	if (ingest_committer_holds(in->committer, n))
		return;
	p->idle_mark_us = now;
	ingest_committer_lock_db(in->committer);
	rc = ingest_idle_advance(in->db, topic, n, in->cfg->ingest_idle_timeout_s,
	                         in->cfg->ingest_lateness_s, &err);
	ingest_committer_unlock_db(in->committer);
	if (rc)
		log_warn("idle watermark", "partition=%d error=\"%s\"", (int)n, err.msg);
}

/* Once a second, over the assigned partitions (from the consumer's cached
 * watermarks: no broker round trip): the records behind the high
 * watermarks, and the idle partitions' watermarks. */
static void watch_partitions(struct ingest *in)
{
	rd_kafka_topic_partition_list_t *parts = NULL;
	int64_t lag = 0, now = time_now_us();

	if (rd_kafka_assignment(in->consumer, &parts) || !parts)
		return;
	for (int i = 0; i < parts->cnt; i++) {
		int32_t n = parts->elems[i].partition;
		int64_t lo = 0, hi = 0, pos;

		if (n < 0 || n >= MAX_PARTITIONS ||
		    rd_kafka_get_watermark_offsets(in->consumer, parts->elems[i].topic, n, &lo,
		                                   &hi) ||
		    hi < 0)
			continue;
		pos = in->parts[n].position;
		lag += hi - (pos >= 0 ? pos : lo);
		advance_if_idle(in, parts->elems[i].topic, n, pos >= 0 ? pos >= hi : lo == hi, now);
	}
	rd_kafka_topic_partition_list_destroy(parts);
	in->stats->lag = lag;
}

/* Every ingest.compact-interval-s, merges the small files of a few closed
 * hours (see ingest_compact.h). Compaction is housekeeping: when it fails
 * (a store outage, an unreadable file) the lake is unchanged, the reason is
 * logged and the next round tries again, while ingest goes on. */
static int compact_due(struct ingest *in, int64_t now)
{
	struct ts_err err = {0};
	int hours = 0, rc;

	if (now >= in->next_lag_us) {
		watch_partitions(in);
		in->next_lag_us = now + TIME_US_PER_SEC;
	}
	if (!in->cfg->ingest_compact_interval_s || now < in->next_compact_us)
		return 0;
	in->next_compact_us = now + in->cfg->ingest_compact_interval_s * TIME_US_PER_SEC;
	ingest_committer_lock_db(in->committer);
	rc = ingest_compact_closed(in->db, &in->lake, 8, &hours, &err);
	ingest_committer_unlock_db(in->committer);
	if (rc)
		log_warn("compact", "error=\"%s\"", err.msg);
	in->stats->compacted += hours;
	return 0;
}

/* librdkafka 2.0 (Debian 12's) stops fetching a partition while the
 * prefetch queue is full and, once the queue has drained, looks again only
 * when its broker thread next wakes: up to a second later (librdkafka 2.1
 * made that wait fetch.queue.backoff.ms). So ingest, working off a backlog,
 * sat idle for most of every second unless the queue held a second's worth
 * of records (docs/ingest.md, "Catching up").
 *
 * Called when the queue is empty. A partition whose cached high watermark
 * (no broker round trip) says records are waiting past its position, for
 * wake_wait_us, is sought to that very position: where it fetches from
 * anyway, so nothing is skipped, and take() ignores any record from before
 * it. The seek wakes the broker thread at once. The wait starts at 5 ms
 * and doubles, up to a second, while seeks bring nothing — a topic with an
 * open transaction keeps its high watermark past what can be read. */
static void wake_fetcher(struct ingest *in)
{
	rd_kafka_topic_partition_list_t *seek = NULL;
	int64_t now = time_mono_us();

	in->starving = 0;
	for (int32_t n = 0; n < MAX_PARTITIONS; n++) {
		struct part *p = &in->parts[n];
		int64_t lo, hi;

		if (!p->active || p->position < 0 ||
		    rd_kafka_get_watermark_offsets(in->consumer, in->cfg->kafka_topic, n, &lo,
		                                   &hi) ||
		    hi <= p->position) {
			p->starved_us = 0;
			continue;
		}
		in->starving = 1;
		if (!p->starved_us) { /* progress was made: take() cleared it */
			p->starved_us = now;
			if (p->woken_at != p->position)
				p->wake_wait_us = WAKE_WAIT_MIN_US;
			continue;
		}
		if (now - p->starved_us < p->wake_wait_us)
			continue;
		if (p->woken_at == p->position) /* the last seek brought nothing */
			p->wake_wait_us = p->wake_wait_us < TIME_US_PER_SEC / 2
			                      ? p->wake_wait_us * 2
			                      : TIME_US_PER_SEC;
		p->woken_at = p->position;
		p->starved_us = now;
		if (!seek)
			seek = rd_kafka_topic_partition_list_new(4);
		rd_kafka_topic_partition_list_add(seek, in->cfg->kafka_topic, n)->offset =
		    p->position;
	}
	if (seek) {
		rd_kafka_error_t *e = rd_kafka_seek_partitions(in->consumer, seek, 0);

		if (e) {
			log_warn("kafka seek", "error=\"%s\"", rd_kafka_error_string(e));
			rd_kafka_error_destroy(e);
		}
		in->stats->fetch_wakeups += seek->cnt;
		rd_kafka_topic_partition_list_destroy(seek);
	}
}

/* Called every REFILL_EVERY records taken. A fetcher that stopped on a
 * full prefetch queue would otherwise start again only once the queue
 * has run dry and wake_fetcher has sought: this thread is idle until the
 * next fetch arrives (docs/ingest.md, "Refilling the queue"). So once the
 * queue holds less than half its size (its length times this record's
 * size: plays differ little in size), while the record's partition has
 * more records at the broker than the whole queue holds, the refiller
 * wakes the fetcher, at most every REFILL_GAP_US. Both checks are local:
 * the queue's length, and the high watermark librdkafka cached from its
 * last fetch. */
static void refill(struct ingest *in, const rd_kafka_message_t *m, int64_t now)
{
	int64_t queued = (int64_t)rd_kafka_queue_length(in->queue);
	int64_t lo, hi;

	if (now - in->refill_asked_us < REFILL_GAP_US ||
	    queued * (int64_t)m->len >= in->cfg->ingest_fetch_queue_kbytes * 512)
		return;
	if (rd_kafka_get_watermark_offsets(in->consumer, in->cfg->kafka_topic, m->partition, &lo,
	                                   &hi) ||
	    hi - (m->offset + 1) <= queued)
		return;
	in->refill_asked_us = now;
	ingest_refill_ask(in->refill, m->partition);
}

/* One message of a poll: a record is taken, an error logged. */
static int handle(struct ingest *in, const rd_kafka_message_t *m, int64_t now, struct ts_err *err)
{
	int rc = 0;

	if (m->err) {
		if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
			log_warn("kafka", "error=\"%s\"", rd_kafka_message_errstr(m));
	} else if (m->partition >= 0 && m->partition < MAX_PARTITIONS &&
	           in->parts[m->partition].active) {
		rc = take(in, m, err);
		if (!rc && in->stats->records % REFILL_EVERY == 0) {
			note_backlog(in, m->partition, m->offset);
			if (in->refill)
				refill(in, m, now);
		}
	}
	return rc;
}

/*
 * Takes what the consumer's queue holds, POLL_BATCH messages at most, in
 * one call: polled one at a time, every record took the queue's lock and
 * read the clock in librdkafka and here. When the queue is empty, one
 * message is awaited with rd_kafka_consumer_poll instead (a batch call with
 * a timeout waits for its whole array to fill). Rebalance callbacks run
 * inside either call; a record polled before a revoke is dropped by
 * handle (its partition no longer active) and read again by the next owner
 * from the committed offset.
 */
static int poll_once(struct ingest *in, struct ts_err *err)
{
	rd_kafka_message_t *ms[POLL_BATCH];
	ssize_t n;
	int64_t now;
	int rc = ingest_committer_failed(in->committer, err);

	if (rc) /* a batch failed: start again from the committed offsets */
		return rc;
	n = rd_kafka_consume_batch_queue(in->queue, 0, ms, POLL_BATCH);
	if (n <= 0) {
		wake_fetcher(in);
		if ((rc = seal_caught_up(in, err)))
			return rc;
		ms[0] = rd_kafka_consumer_poll(in->consumer, in->starving ? 2 : 100);
		n = ms[0] != NULL;
	}
	now = time_mono_us();
	in->rules.now_us = now + in->wall_offset_us;
	for (ssize_t i = 0; i < n; i++) {
		if (!rc && !in->failed)
			rc = handle(in, ms[i], now, err);
		rd_kafka_message_destroy(ms[i]);
	}
	if (rc)
		return rc;
	rc = flush_old(in, now, err);
	return rc ? rc : compact_due(in, now);
}

static int setup(struct ingest *in, struct ts_err *err)
{
	int applied = 0;
	int rc = db_connect(in->cfg, (int)in->cfg->check_timeout_ms, &in->db, err);

	rc = rc ? rc : db_migrate(in->db, &applied, err);
	rc = rc ? rc : ingest_lake_open(in->cfg, &in->lake, err);
	rc = rc ? rc : open_dlq(in, err);
	rc = rc ? rc : ingest_committer_start(in->cfg, in->stats, in->dlq, &in->committer, err);
	return rc ? rc : open_consumer(in, err);
}

/* The consumer's queue (poll_once), and the refiller (refill).
 * TS_FAILPOINT=ingest.no-refill:1 leaves the refiller out, so that a test
 * can see wake_fetcher's seeks alone at work. */
static int start_refill(struct ingest *in, struct ts_err *err)
{
	in->queue = rd_kafka_queue_get_consumer(in->consumer);
	if (!in->queue)
		return ts_err_set(err, TS_EINVAL, "kafka: no consumer queue");
	if (failpoint_arg("ingest.no-refill"))
		return 0;
	return ingest_refill_new(in->consumer, in->cfg->kafka_topic, &in->stats->fetch_refills,
	                         &in->refill, err);
}

/* One life of the job: connect, consume until stopped or failed, let go. */
static int run_once(const struct ts_config *cfg, volatile int *stop, struct ingest_stats *stats,
                    struct ts_err *err)
{
	struct ingest *in = calloc(1, sizeof(*in));
	int rc;

	if (!in)
		return ts_err_set(err, TS_ENOMEM, "out of memory");
	in->cfg = cfg;
	in->stats = stats;
	in->rules.regions = cfg->regions;
	in->rules.max_age_us = cfg->ingest_max_age_s * TIME_US_PER_SEC;
	in->rules.max_future_us = cfg->ingest_max_future_s * TIME_US_PER_SEC;
	in->wall_offset_us = time_now_us() - time_mono_us();
	for (int i = 0; i < MAX_PARTITIONS; i++)
		in->parts[i].first = in->parts[i].last = -1;
	rc = setup(in, err);
	rc = rc ? rc : start_refill(in, err);
	while (!rc && !*stop && !in->failed)
		rc = poll_once(in, err);
	ingest_refill_free(in->refill);
	if (in->queue)
		rd_kafka_queue_destroy(in->queue);
	if (in->consumer)
		rd_kafka_consumer_close(in->consumer); /* revokes: commits what is open */
	if (!rc && in->failed) {
		*err = in->fail_err;
		rc = err->code ? err->code : TS_EFAILED;
	}
	if (in->consumer)
		rd_kafka_destroy(in->consumer);
	ingest_committer_stop(in->committer); /* drops what a failure left queued */
	if (in->dlq)
		rd_kafka_destroy(in->dlq);
	db_free(in->db);
	store_free(in->lake.store);
	for (int i = 0; i < MAX_PARTITIONS; i++) {
		for (int f = 0; f < in->parts[i].nfiles; f++) /* left open by a failure */
			ingest_file_abort(&in->parts[i].files[f]);
		free(in->parts[i].files);
	}
	free(in);
	return rc;
}

/* A life this long, or one that committed, ends an outage. */
#define OUTAGE_OVER_US (30 * TIME_US_PER_SEC)

static void sleep_unless_stopped(int64_t ms, volatile int *stop)
{
	const struct timespec step = {0, 50 * 1000 * 1000};

	for (int64_t until = time_mono_us() + ms * 1000; !*stop && time_mono_us() < until;)
		nanosleep(&step, NULL); /* a signal cuts it short, as it should */
}

int ingest_run(const struct ts_config *cfg, volatile int *stop, struct ingest_stats *stats,
               struct ts_err *err)
{
	struct ingest_metrics *metrics = NULL;
	struct store_retry retry;
	int64_t outage_us = 0; /* when the current outage began; 0: none */
	int rc, attempt = 0;

	if (cfg->ingest_metrics_listen[0]) {
		struct ts_err merr;

		if (ingest_metrics_start(cfg->ingest_metrics_listen, stats, &metrics, &merr))
			log_warn("metrics off", "%s", merr.msg);
		else
			log_info("metrics", "url=http://%.*s:%d/metrics",
			         (int)strcspn(cfg->ingest_metrics_listen, ":"),
			         cfg->ingest_metrics_listen, ingest_metrics_port(metrics));
	}
	/* Waits of 1 s doubling to 30 s, each uniform in [d/2, d]. */
	store_retry_init(&retry, 0, 0, 0);
	retry.base_ms = 1000;
	retry.cap_ms = 30000;
	for (;;) {
		int64_t began = time_mono_us(), commits = stats->commits, delay;

		rc = run_once(cfg, stop, stats, err);
		if (rc != TS_EUNAVAIL || *stop || !cfg->ingest_unavailable_retry_s)
			break;
		if (stats->commits > commits || time_mono_us() - began >= OUTAGE_OVER_US)
			outage_us = 0;
		if (!outage_us) {
			outage_us = began;
			attempt = 0;
		}
		delay = store_retry_delay_ms(&retry, ++attempt);
		if (time_mono_us() + delay * 1000 - outage_us >
		    cfg->ingest_unavailable_retry_s * TIME_US_PER_SEC)
			break;
		log_warn("unavailable", "restart_in_ms=%lld attempt=%d error=\"%s\"",
		         (long long)delay, attempt, err->msg);
		stats->restarts++;
		sleep_unless_stopped(delay, stop);
	}
	ingest_metrics_stop(metrics);
	return rc;
}
