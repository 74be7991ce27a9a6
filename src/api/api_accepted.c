/*
 * See api_accepted.h. The pending counts are an open-addressing table of
 * (region, hour) -> plays under one mutex, held only to add (request
 * threads) or to take the whole table (the flush thread): the database is
 * never reached with the mutex held, so a slow or dead PostgreSQL costs
 * POST /play nothing.
 */
#include "base/common.h"
#include "api/api_accepted.h"
#include "api/api_internal.h"
#include "api/api_journal.h"
#include "base/failpoint.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "db/db.h"

#include <pthread.h>
#include <unistd.h>

#define MAX_REGIONS 64
#define REGION_MAX  9

struct slot {
	int32_t hour;
	int16_t region; /* -1: empty */
	int64_t plays;
};

struct api_accepted {
	const struct ts_config *cfg;
	char regions[MAX_REGIONS][REGION_MAX];
	int nregions;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct slot table[API_ACCEPTED_SLOTS]; /* under lock */
	int used;                              /* under lock */
	int64_t dropped;                       /* under lock: plays no slot could hold */
	int stop;                              /* under lock */
	struct api_journal *journal;           /* under lock; NULL: none */
	unsigned char *checkpoint;             /* under lock: the table as records */
	pthread_t thread;
	struct db *db; /* the flush thread's own */
	char instance[160];
	char host[64];
	char pid[16];
	int migrated;
	int64_t recover_at_us; /* next scan of the journal folder (monotonic) */
	int failing;           /* flushes failed in a row (the flush thread's) */
	/* The flush thread's: each write of counts has a number, committed with
	 * them (api_instances.flush_seq). A write that failed may still have
	 * committed (the connection broke after COMMIT was sent): its counts,
	 * put back into the table, are in doubt until the database says. */
	int64_t flush_seq;
	int64_t doubt_seq;  /* 0: nothing in doubt */
	int64_t doubt_jseq; /* the last journal segment the write in doubt covered */
	struct slot doubt[API_ACCEPTED_SLOTS]; /* its counts, slot for slot as taken */
	long commits; /* that recorded counts, for the failpoint ledger.commit-lost */
};

static void clear_table(struct slot *t)
{
	for (int i = 0; i < API_ACCEPTED_SLOTS; i++)
		t[i] = (struct slot){0, -1, 0};
}

/* The slot of (r, hour) in table t, or the empty slot where it would go;
 * NULL when t is full without it. */
static struct slot *slot_of(struct slot *t, int r, int32_t hour)
{
	uint32_t h = ((uint32_t)hour * 2654435761u) ^ (uint32_t)r;

	for (int probe = 0; probe < API_ACCEPTED_SLOTS; probe++) {
		struct slot *s = &t[(h + (uint32_t)probe) % API_ACCEPTED_SLOTS];

		if (s->region < 0 || (s->region == r && s->hour == hour))
			return s;
	}
	return NULL;
}

/* Under lock. */
static void add_locked(struct api_accepted *a, int r, int32_t hour, int64_t n)
{
	struct slot *s = slot_of(a->table, r, hour);

	if (!s) {
		a->dropped += n;
	} else if (s->region < 0) {
		*s = (struct slot){hour, (int16_t)r, n};
		a->used++;
	} else {
		s->plays += n;
	}
}

void api_accepted_add(struct api_accepted *a, int r, int32_t hour, int64_t n)
{
	if (!a || r < 0 || r >= a->nregions || n <= 0)
		return;
	pthread_mutex_lock(&a->lock);
	add_locked(a, r, hour, n);
	pthread_mutex_unlock(&a->lock);
}

void api_accepted_note(struct api_request *req, size_t i, const struct play_event *ev)
{
	struct api_accepted *a = req->srv->accepted;
	struct api_item *it = &req->items[i];

	it->region = -1;
	it->hour = (int32_t)(ev->ts_us / 3600000000LL - (ev->ts_us % 3600000000LL < 0));
	for (int r = 0; a && r < a->nregions; r++)
		if (!strcmp(a->regions[r], ev->region)) {
			it->region = (signed char)r;
			return;
		}
}

void api_accepted_count(struct api_request *req)
{
	struct api_accepted *a = req->srv->accepted;
	unsigned char rec[64 * API_JOURNAL_RECORD];
	size_t nrec = 0;

	if (!a)
		return;
	/* Statuses are final here (api_ingest_finish), so no req->lock. A
	 * request is mostly one region and hour: count runs, lock once. The
	 * journal gets the runs before the answer is queued, under the lock,
	 * so that a flush's table and journal segments hold the same counts. */
	pthread_mutex_lock(&a->lock);
	for (size_t i = 0, run; i < req->nitems; i += run) {
		const struct api_item *it = &req->items[i];
		int64_t n = it->status == 202;

		for (run = 1; i + run < req->nitems && it[run].region == it->region &&
		              it[run].hour == it->hour;
		     run++)
			n += it[run].status == 202;
		if (!n || it->region < 0)
			continue;
		add_locked(a, it->region, it->hour, n);
		if (a->journal &&
		    !api_journal_encode(a->regions[it->region], it->hour, n,
		                        rec + nrec * API_JOURNAL_RECORD) &&
		    ++nrec * API_JOURNAL_RECORD == sizeof(rec)) {
			api_journal_append(a->journal, rec, sizeof(rec));
			nrec = 0;
		}
	}
	api_journal_append(a->journal, rec, nrec * API_JOURNAL_RECORD);
	pthread_mutex_unlock(&a->lock);
}

/* ---- the flush thread ---------------------------------------------------- */

static int ensure_db(struct api_accepted *a, struct ts_err *err)
{
	int applied = 0, rc;

	if (a->db)
		return 0;
	rc = db_connect(a->cfg, 1000, &a->db, err);
	if (!rc && !a->migrated) {
		rc = db_migrate(a->db, &applied, err);
		a->migrated = !rc;
	}
	if (rc) {
		db_free(a->db);
		a->db = NULL;
	}
	return rc;
}

/* The counts journaled by apis that are gone: on each new connection and
 * every API_ACCEPTED_RECOVER_MS. Failures are logged by the journal; they
 * do not stop our own flushes. */
static void recover_gone(struct api_accepted *a, int connected)
{
	struct ts_err err;
	int64_t now = time_mono_us();

	if (!a->journal || !a->db || (!connected && now < a->recover_at_us))
		return;
	a->recover_at_us = now + API_ACCEPTED_RECOVER_MS * 1000LL;
	ts_err_clear(&err);
	api_journal_recover(a->db, a->cfg->api_journal_dir, a->instance, &err);
}

int api_accepted_record(struct db *db, const char *region, int32_t hour, int64_t plays,
                        struct ts_err *err)
{
	char start[24], n[24];
	const char *params[] = {region, start, n};

	snprintf(start, sizeof(start), "%lld", (long long)hour * 3600);
	snprintf(n, sizeof(n), "%lld", (long long)plays);
	return db_execp(
	    db,
	    "INSERT INTO api_accepted (region, hour_start, accepted) VALUES ($1, "
	    "to_timestamp($2::float8), $3) ON CONFLICT (region, hour_start) DO UPDATE "
	    "SET accepted = api_accepted.accepted + EXCLUDED.accepted, updated_at = now()",
	    3, params, NULL, err);
}

static int write_all(struct api_accepted *a, const struct slot *t, int stopping, int64_t seq,
                     struct ts_err *err)
{
	char seqs[24], flush[24];
	const char *params[] = {a->instance, a->host, a->pid, stopping ? "t" : "f", seqs, flush};
	int rc = db_exec(a->db, "BEGIN", err), counted = 0;

	snprintf(seqs, sizeof(seqs), "%lld", (long long)seq);
	snprintf(flush, sizeof(flush), "%lld", (long long)++a->flush_seq);
	for (int i = 0; !rc && i < API_ACCEPTED_SLOTS; i++)
		if (t[i].region >= 0 && t[i].plays) {
			rc = api_accepted_record(a->db, a->regions[t[i].region], t[i].hour,
			                         t[i].plays, err);
			counted = 1;
		}
	rc =
	    rc ? rc
	       : db_execp(a->db,
	                  "INSERT INTO api_instances (instance, host, pid, journal_seq, flush_seq) "
	                  "VALUES ($1, $2, $3, $5, $6) ON CONFLICT (instance) DO UPDATE SET "
	                  "flushed_at = now(), stopped_at = CASE WHEN $4::bool THEN now() END, "
	                  "journal_seq = GREATEST(api_instances.journal_seq, $5), flush_seq = $6",
	                  6, params, NULL, err);
	rc = rc ? rc : db_exec(a->db, "COMMIT", err);
	if (!rc && counted &&
	    failpoint_arg("ledger.commit-lost") + failpoint_arg("ledger.commit-lost-kill") ==
	        ++a->commits)
		rc = ts_err_set(err, TS_EUNAVAIL,
		                "failpoint ledger.commit-lost: the answer to COMMIT "
		                "is taken as lost");
	if (rc) {
		/* A broken connection is reopened by the next flush, which first
		 * settles whether this write committed (settle_doubt). */
		db_free(a->db);
		a->db = NULL;
	}
	return rc;
}

/* Under lock: takes n plays of (r, hour) back out of the table. */
static void remove_locked(struct api_accepted *a, int r, int32_t hour, int64_t n)
{
	struct slot *s = slot_of(a->table, r, hour);

	if (s && s->region >= 0)
		s->plays -= n < s->plays ? n : s->plays;
}

/* Once connected after a failed write: did it commit after all? Then its
 * counts, which the failure put back into the table, come out again. 0
 * once settled; an error leaves the doubt for the next flush. */
static int settle_doubt(struct api_accepted *a, struct ts_err *err)
{
	const char *params[] = {a->instance};
	PGresult *r = NULL;
	int committed, rc;

	if (!a->doubt_seq)
		return 0;
	rc = db_execp(a->db, "SELECT flush_seq FROM api_instances WHERE instance = $1", 1, params,
	              &r, err);
	if (rc) {
		db_free(a->db);
		a->db = NULL;
		return rc;
	}
	committed = PQntuples(r) == 1 && strtoll(PQgetvalue(r, 0, 0), NULL, 10) >= a->doubt_seq;
	PQclear(r);
	if (committed) {
		log_warn(
		    "accepted counts were recorded though the answer was lost; not adding them "
		    "again",
		    "flush=%lld", (long long)a->doubt_seq);
		pthread_mutex_lock(&a->lock);
		for (int i = 0; i < API_ACCEPTED_SLOTS; i++)
			if (a->doubt[i].region >= 0)
				remove_locked(a, a->doubt[i].region, a->doubt[i].hour,
				              a->doubt[i].plays);
		api_journal_committed(a->journal, a->doubt_jseq);
		pthread_mutex_unlock(&a->lock);
	}
	a->doubt_seq = 0;
	return 0;
}

/* The plays of (r, hour) in the write in doubt, if any (its table is a
 * copy of a->table's, so the same probe finds a slot). */
static int64_t doubt_plays(struct api_accepted *a, int r, int32_t hour)
{
	const struct slot *s = a->doubt_seq ? slot_of(a->doubt, r, hour) : NULL;

	return s && s->region >= 0 ? s->plays : 0;
}

/* Under lock: the table as journal records in a->checkpoint; their bytes.
 * Without the counts of a write in doubt: those stay in the journal
 * segments it covered (api_journal_checkpoint's keep).
 * A slot of more plays than a record holds (2^31-1) takes several, while
 * the buffer (two records a slot) lasts. */
static size_t table_records(struct api_accepted *a)
{
	size_t n = 0;

	for (int i = 0; i < API_ACCEPTED_SLOTS; i++) {
		const struct slot *s = &a->table[i];
		int64_t plays = s->region >= 0 ? s->plays - doubt_plays(a, s->region, s->hour) : 0;
		for (int64_t left = plays; left > 0 && n < 2 * API_ACCEPTED_SLOTS;
		     left -= INT32_MAX)
			api_journal_encode(a->regions[s->region], s->hour,
			                   left < INT32_MAX ? left : INT32_MAX,
			                   a->checkpoint + n++ * API_JOURNAL_RECORD);
	}
	return n * API_JOURNAL_RECORD;
}

/* Takes the table, writes it; on failure puts the counts back. The journal
 * segments ended with the take hold the same counts as the table taken;
 * they go once the counts are committed. */
static void flush_once(struct api_accepted *a, struct slot *taken, int stopping)
{
	struct ts_err err;
	int64_t dropped, seq;
	int connected;

	ts_err_clear(&err);
	connected = !a->db;
	if (!ensure_db(a, &err)) {
		recover_gone(a, connected);
		settle_doubt(a, &err);
	}
	pthread_mutex_lock(&a->lock);
	seq = api_journal_rotate(a->journal);
	memcpy(taken, a->table, sizeof(a->table));
	clear_table(a->table);
	a->used = 0;
	dropped = a->dropped;
	a->dropped = 0;
	pthread_mutex_unlock(&a->lock);
	if (dropped)
		log_warn("ledger counts dropped: too many pending (region, hour) pairs",
		         "plays=%lld", (long long)dropped);
	if (a->db) {
		if (!write_all(a, taken, stopping, seq, &err)) {
			api_journal_committed(a->journal, seq);
			if (a->failing)
				log_info("accepted counts recorded again", "after_failures=%d",
				         a->failing);
			a->failing = 0;
			return;
		}
		a->doubt_seq = a->flush_seq;
		a->doubt_jseq = seq;
		memcpy(a->doubt, taken, sizeof(a->table));
	}
	/* Once per outage, not once a second. */
	if (!a->failing++)
		log_warn("cannot record accepted counts; keeping them for the next flush",
		         "reason=\"%s\"", err.msg);
	pthread_mutex_lock(&a->lock);
	for (int i = 0; i < API_ACCEPTED_SLOTS; i++)
		if (taken[i].region >= 0)
			add_locked(a, taken[i].region, taken[i].hour, taken[i].plays);
	if (a->journal)
		api_journal_checkpoint(a->journal, a->checkpoint, table_records(a),
		                       a->doubt_seq ? a->doubt_jseq : 0);
	pthread_mutex_unlock(&a->lock);
	if (a->doubt_seq && a->doubt_seq == a->flush_seq)
		failpoint("ledger.commit-lost-kill"); /* with the write in doubt journaled */
}

static void *flush_main(void *arg)
{
	struct api_accepted *a = arg;
	struct slot *taken = malloc(sizeof(a->table));
	int stop = 0;

	if (!taken)
		BUG("out of memory for the ledger flush table");
	while (!stop) {
		struct timespec until;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += API_ACCEPTED_FLUSH_MS / 1000;
		pthread_mutex_lock(&a->lock);
		if (!a->stop)
			pthread_cond_timedwait(&a->wake, &a->lock, &until);
		stop = a->stop;
		pthread_mutex_unlock(&a->lock);
		flush_once(a, taken, stop);
	}
	free(taken);
	return NULL;
}

int api_accepted_new(const struct ts_config *cfg, struct api_accepted **out, struct ts_err *err)
{
	struct api_accepted *a = calloc(1, sizeof(*a));

	if (!a)
		return ts_err_set(err, TS_ENOMEM, "out of memory");
	a->cfg = cfg;
	a->nregions = config_regions(cfg, a->regions[0], REGION_MAX, MAX_REGIONS);
	clear_table(a->table);
	gethostname(a->host, sizeof(a->host) - 1);
	snprintf(a->pid, sizeof(a->pid), "%d", (int)getpid());
	snprintf(a->instance, sizeof(a->instance), "%s:%d:%lld", a->host, (int)getpid(),
	         (long long)time_now_us());
	if (cfg->api_journal_dir && *cfg->api_journal_dir) {
		int rc = api_journal_open(cfg->api_journal_dir, a->instance, &a->journal, err);
		a->checkpoint = rc ? NULL : malloc(2 * API_ACCEPTED_SLOTS * API_JOURNAL_RECORD);
		if (!rc && !a->checkpoint) {
			api_journal_close(a->journal, 1);
			rc = ts_err_set(err, TS_ENOMEM, "out of memory");
		}
		if (rc) {
			free(a);
			return rc;
		}
	}
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->wake, NULL);
	if (pthread_create(&a->thread, NULL, flush_main, a)) {
		api_journal_close(a->journal, 0);
		free(a->checkpoint);
		pthread_cond_destroy(&a->wake);
		pthread_mutex_destroy(&a->lock);
		free(a);
		return ts_err_set(err, TS_ENOMEM, "cannot start the ledger flush thread");
	}
	*out = a;
	return 0;
}

void api_accepted_free(struct api_accepted *a)
{
	if (!a)
		return;
	pthread_mutex_lock(&a->lock);
	a->stop = 1;
	pthread_cond_signal(&a->wake);
	pthread_mutex_unlock(&a->lock);
	pthread_join(a->thread, NULL);
	pthread_mutex_lock(&a->lock);
	if (a->used)
		log_warn(a->journal
		             ? "accepted counts not recorded at exit (PostgreSQL "
		               "unreachable); the next api on the journal folder records them"
		             : "accepted counts not recorded at exit (PostgreSQL unreachable)",
		         "pairs=%d", a->used);
	api_journal_close(a->journal, !a->used);
	free(a->checkpoint);
	pthread_mutex_unlock(&a->lock);
	db_free(a->db);
	pthread_cond_destroy(&a->wake);
	pthread_mutex_destroy(&a->lock);
	free(a);
}
