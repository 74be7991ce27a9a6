/*
 * See api_journal.h.
 */
#include "base/common.h"
#include "api/api_journal.h"
#include "api/api_accepted.h"
#include "base/fsutil.h"
#include "base/log.h"
#include "db/db.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define PATH_MAX_LEN  1024
#define SEGMENT_MAX   (64u << 20) /* bytes of one segment we read back */
#define RECOVER_PAIRS 4096        /* (region, hour) pairs of one dead instance */

struct api_journal {
	char dir[PATH_MAX_LEN];
	char instance[160];
	int lock_fd;
	int fd;            /* the current segment; -1: journal off */
	int64_t seq;       /* its number */
	size_t written;    /* bytes in it */
	int64_t committed; /* segments <= this are deleted */
};

static void segment_path(const char *dir, const char *instance, int64_t seq, char *out, size_t size)
{
	snprintf(out, size, "%s/%s.%lld.journal", dir, instance, (long long)seq);
}

static int open_segment(struct api_journal *j, struct ts_err *err)
{
	char path[PATH_MAX_LEN + 200];

	segment_path(j->dir, j->instance, j->seq, path, sizeof(path));
	j->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (j->fd < 0)
		return ts_err_set(err, TS_EIO, "%s: %s", path, strerror(errno));
	return 0;
}

int api_journal_open(const char *dir, const char *instance, struct api_journal **out,
                     struct ts_err *err)
{
	struct api_journal *j = calloc(1, sizeof(*j));
	char path[PATH_MAX_LEN + 200];
	int rc;

	if (!j)
		return ts_err_set(err, TS_ENOMEM, "out of memory");
	snprintf(j->dir, sizeof(j->dir), "%s", dir);
	snprintf(j->instance, sizeof(j->instance), "%s", instance);
	j->fd = -1;
	j->seq = 1;
	if (strlen(dir) >= sizeof(j->dir) || strlen(instance) >= sizeof(j->instance))
		rc = ts_err_set(err, TS_EINVAL, "folder name over %d bytes", PATH_MAX_LEN - 1);
	else if (strchr(instance, '/'))
		rc = ts_err_set(err, TS_EINVAL, "instance name with a '/'");
	else
		rc = fs_mkdirs(dir, err);
	snprintf(path, sizeof(path), "%s/%s.lock", dir, instance);
	j->lock_fd = rc ? -1 : open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (!rc && (j->lock_fd < 0 || flock(j->lock_fd, LOCK_EX | LOCK_NB)))
		rc = ts_err_set(err, TS_EIO, "%s: %s", path, strerror(errno));
	rc = rc ? rc : open_segment(j, err);
	if (rc) {
		if (j->lock_fd >= 0)
			close(j->lock_fd);
		free(j);
		return ts_err_wrap(err, "api journal");
	}
	*out = j;
	return 0;
}

static void remove_segments(const struct api_journal *j, int64_t from, int64_t to)
{
	char path[PATH_MAX_LEN + 200];

	for (int64_t s = from; s <= to; s++) {
		segment_path(j->dir, j->instance, s, path, sizeof(path));
		unlink(path);
	}
}

void api_journal_close(struct api_journal *j, int remove)
{
	char path[PATH_MAX_LEN + 200];

	if (!j)
		return;
	if (j->fd >= 0)
		close(j->fd);
	if (remove) {
		remove_segments(j, j->committed + 1, j->seq);
		snprintf(path, sizeof(path), "%s/%s.lock", j->dir, j->instance);
		unlink(path);
	}
	close(j->lock_fd); /* releases the lock */
	free(j);
}

int api_journal_encode(const char *region, int32_t hour, int64_t plays,
                       unsigned char out[API_JOURNAL_RECORD])
{
	size_t len = strlen(region);
	uint32_t h = (uint32_t)hour, p = (uint32_t)plays;

	if (!len || len > API_JOURNAL_REGION || plays < 1 || plays > INT32_MAX)
		return TS_EINVAL;
	memset(out, 0, API_JOURNAL_RECORD);
	memcpy(out, region, len);
	for (int i = 0; i < 4; i++) {
		out[8 + i] = (unsigned char)(h >> (8 * i));
		out[12 + i] = (unsigned char)(p >> (8 * i));
	}
	return 0;
}

void api_journal_append(struct api_journal *j, const void *records, size_t n)
{
	ssize_t w;

	if (!j || j->fd < 0 || !n)
		return;
	w = write(j->fd, records, n);
	if (w == (ssize_t)n) {
		j->written += n;
		return;
	}
	log_error("api journal: cannot append; a SIGKILL would now lose the unflushed 202 counts",
	          "dir=%s reason=\"%s\"", j->dir, w < 0 ? strerror(errno) : "short write");
	/* The segment's counts are in the table, which the flushes still
	 * record; a copy left here would be counted again by a recovery. */
	close(j->fd);
	j->fd = -1;
	remove_segments(j, j->seq, j->seq);
}

int64_t api_journal_rotate(struct api_journal *j)
{
	struct ts_err err;

	if (!j)
		return 0;
	if (j->fd < 0 || !j->written) /* off, or nothing since the last rotation */
		return j->seq - 1;
	close(j->fd);
	j->seq++;
	j->written = 0;
	if (open_segment(j, &err)) /* off from now on, as after a failed append */
		log_error("api journal: cannot start a segment; a SIGKILL would now lose the "
		          "unflushed 202 counts",
		          "reason=\"%s\"", err.msg);
	return j->seq - 1;
}

void api_journal_committed(struct api_journal *j, int64_t seq)
{
	if (!j || seq <= j->committed)
		return;
	remove_segments(j, j->committed + 1, seq);
	j->committed = seq;
}

void api_journal_checkpoint(struct api_journal *j, const void *records, size_t n, int64_t keep)
{
	int64_t ended;

	if (!j || j->fd < 0)
		return;
	ended = api_journal_rotate(j);
	api_journal_append(j, records, n);
	if (j->fd < 0) /* not written: what it would replace stays */
		return;
	if (keep <= j->committed)
		api_journal_committed(j, ended);
	else
		remove_segments(j, keep + 1, ended);
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int api_journal_parse(const void *buf, size_t len,
                      int (*fn)(const char *region, int32_t hour, int64_t plays, void *arg),
                      void *arg, struct ts_err *err)
{
	const unsigned char *p = buf;

	for (size_t off = 0; off + API_JOURNAL_RECORD <= len; off += API_JOURNAL_RECORD) {
		const unsigned char *r = p + off;
		char region[API_JOURNAL_REGION + 1] = {0};
		uint32_t plays = le32(r + 12);
		size_t n = 0;
		int rc;

		while (n < API_JOURNAL_REGION && r[n] >= '!' && r[n] <= '~')
			n++;
		for (size_t i = n; i < API_JOURNAL_REGION; i++)
			if (r[i])
				n = 0;
		if (!n || !plays || plays > INT32_MAX)
			return ts_err_set(err, TS_ECORRUPT, "journal record at byte %zu: bad %s",
			                  off, n ? "plays" : "region");
		memcpy(region, r, n);
		rc = fn(region, (int32_t)le32(r + 8), (int64_t)plays, arg);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- recovery ------------------------------------------------------------ */

struct pair {
	char region[API_JOURNAL_REGION + 1];
	int32_t hour;
	int64_t plays;
};

struct tally {
	struct pair *v;
	int n;
	int64_t plays;
};

static int tally_add(const char *region, int32_t hour, int64_t plays, void *arg)
{
	struct tally *t = arg;
	int i = 0;

	while (i < t->n && (t->v[i].hour != hour || strcmp(t->v[i].region, region)))
		i++;
	if (i == t->n) {
		if (t->n == RECOVER_PAIRS)
			return TS_ETOOBIG;
		t->v[t->n] = (struct pair){.hour = hour};
		snprintf(t->v[t->n++].region, sizeof(t->v[0].region), "%s", region);
	}
	t->v[i].plays += plays;
	t->plays += plays;
	return 0;
}

static int read_segment(const char *path, struct tally *t, struct ts_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	unsigned char *buf = NULL;
	ssize_t got = 0;
	int rc = 0;

	if (fd < 0)
		return errno == ENOENT ? 0
		                       : ts_err_set(err, TS_EIO, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) || st.st_size > SEGMENT_MAX)
		rc = ts_err_set(err, TS_ECORRUPT, "%s: unreadable or over %u bytes", path,
		                SEGMENT_MAX);
	if (!rc && !(buf = malloc((size_t)st.st_size + 1)))
		rc = ts_err_set(err, TS_ENOMEM, "out of memory");
	if (!rc && st.st_size > 0 && (got = read(fd, buf, (size_t)st.st_size)) != st.st_size)
		rc = ts_err_set(err, TS_EIO, "%s: short read", path);
	close(fd);
	rc = rc ? rc : api_journal_parse(buf, (size_t)got, tally_add, t, err);
	if (rc == TS_ETOOBIG)
		ts_err_set(err, rc, "more than %d (region, hour) pairs", RECOVER_PAIRS);
	free(buf);
	return rc ? ts_err_wrap(err, "%s", path) : 0;
}

static int64_t committed_seq(struct db *db, const char *instance, struct ts_err *err)
{
	const char *params[] = {instance};
	PGresult *r = NULL;
	int64_t seq = -1;

	if (!db_execp(db, "SELECT journal_seq FROM api_instances WHERE instance = $1", 1, params,
	              &r, err))
		seq = PQntuples(r) ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : 0;
	PQclear(r);
	return seq;
}

static int write_recovered(struct db *db, const char *instance, int64_t last, const struct tally *t,
                           struct ts_err *err)
{
	char pid[16] = "0", host[64] = "?", seq[24], start[32] = "";
	const char *colon = strchr(instance, ':'), *second = colon ? strchr(colon + 1, ':') : NULL;
	int rc = db_exec(db, "BEGIN", err);

	if (colon) { /* host:pid:start (microseconds since the epoch) */
		snprintf(host, sizeof(host), "%.*s", (int)(colon - instance), instance);
		snprintf(pid, sizeof(pid), "%ld", strtol(colon + 1, NULL, 10));
	}
	if (second)
		snprintf(start, sizeof(start), "%lld", strtoll(second + 1, NULL, 10));
	snprintf(seq, sizeof(seq), "%lld", (long long)last);
	for (int i = 0; !rc && i < t->n; i++)
		rc = api_accepted_record(db, t->v[i].region, t->v[i].hour, t->v[i].plays, err);
	if (!rc) {
		const char *params[] = {instance, host, pid, seq, *start ? start : NULL};
		rc = db_execp(
		    db,
		    "INSERT INTO api_instances (instance, host, pid, journal_seq, "
		    "started_at, flushed_at, stopped_at, recovered_at) VALUES ($1, $2, $3, "
		    "$4, coalesce(to_timestamp($5::float8 / 1e6), now()), now(), now(), now()) ON "
		    "CONFLICT (instance) DO UPDATE SET journal_seq = GREATEST("
		    "api_instances.journal_seq, $4), stopped_at = coalesce("
		    "api_instances.stopped_at, now()), recovered_at = now()",
		    5, params, NULL, err);
	}
	rc = rc ? rc : db_exec(db, "COMMIT", err);
	if (rc)
		db_exec(db, "ROLLBACK", NULL);
	return rc;
}

/* The segment numbers of instance in dir, ascending; *n of them. */
static int list_segments(const char *dir, const char *instance, int64_t **out, int *n,
                         struct ts_err *err)
{
	size_t ilen = strlen(instance), cap = 0;
	DIR *d = opendir(dir);
	struct dirent *e;
	int64_t *v = NULL;

	*n = 0;
	if (!d)
		return ts_err_set(err, TS_EIO, "%s: %s", dir, strerror(errno));
	while ((e = readdir(d))) {
		const char *name = e->d_name, *dot;
		char *end;
		long long seq;

		if (strncmp(name, instance, ilen) || name[ilen] != '.')
			continue;
		seq = strtoll(name + ilen + 1, &end, 10);
		dot = end;
		if (end == name + ilen + 1 || strcmp(dot, ".journal") || seq < 1)
			continue;
		if ((size_t)*n == cap) {
			int64_t *nv = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof(*v));
			if (!nv) {
				free(v);
				closedir(d);
				return ts_err_set(err, TS_ENOMEM, "out of memory");
			}
			v = nv;
		}
		v[(*n)++] = seq;
	}
	closedir(d);
	for (int i = 1; i < *n; i++) /* insertion sort: a handful of segments */
		for (int k = i; k > 0 && v[k - 1] > v[k]; k--) {
			int64_t x = v[k];
			v[k] = v[k - 1];
			v[k - 1] = x;
		}
	*out = v;
	return 0;
}

/* One gone instance: its unflushed segments into PostgreSQL, then its files
 * out of the folder. The caller holds its lock. */
static int recover_instance(struct db *db, const char *dir, const char *instance,
                            struct ts_err *err)
{
	struct tally t = {calloc(RECOVER_PAIRS, sizeof(struct pair)), 0, 0};
	char path[PATH_MAX_LEN + 200];
	int64_t *segs = NULL, done, last = 0;
	int n = 0, rc = t.v ? 0 : ts_err_set(err, TS_ENOMEM, "out of memory");

	rc = rc ? rc : list_segments(dir, instance, &segs, &n, err);
	done = rc ? -1 : committed_seq(db, instance, err);
	if (!rc && done < 0)
		rc = TS_EFAILED;
	for (int i = 0; !rc && i < n; i++)
		if (segs[i] > done) {
			segment_path(dir, instance, segs[i], path, sizeof(path));
			rc = read_segment(path, &t, err);
			last = segs[i];
		}
	if (!rc && last)
		rc = write_recovered(db, instance, last, &t, err);
	if (!rc) {
		if (last)
			log_info("api journal: recovered the 202 counts of a gone api",
			         "instance=%s plays=%lld pairs=%d", instance, (long long)t.plays,
			         t.n);
		for (int i = 0; i < n; i++) {
			segment_path(dir, instance, segs[i], path, sizeof(path));
			unlink(path);
		}
		snprintf(path, sizeof(path), "%s/%s.lock", dir, instance);
		unlink(path);
	}
	free(segs);
	free(t.v);
	return rc;
}

int api_journal_recover(struct db *db, const char *dir, const char *own, struct ts_err *err)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int first = 0;

	if (!d)
		return errno == ENOENT ? 0
		                       : ts_err_set(err, TS_EIO, "%s: %s", dir, strerror(errno));
	while ((e = readdir(d))) {
		char instance[256], path[PATH_MAX_LEN + 300];
		size_t len = strlen(e->d_name);
		struct ts_err one;
		int fd, rc;

		if (len <= 5 || len - 5 >= sizeof(instance) || strcmp(e->d_name + len - 5, ".lock"))
			continue;
		snprintf(instance, sizeof(instance), "%.*s", (int)(len - 5), e->d_name);
		if (!strcmp(instance, own))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (flock(fd, LOCK_EX | LOCK_NB)) { /* alive */
			close(fd);
			continue;
		}
		ts_err_clear(&one);
		rc = recover_instance(db, dir, instance, &one);
		close(fd);
		if (rc) {
			log_error(
			    "api journal: cannot recover a gone api's 202 counts; its files stay",
			    "instance=%s reason=\"%s\"", instance, one.msg);
			if (!first) {
				first = rc;
				ts_err_set(err, rc, "%s", one.msg);
			}
		}
	}
	closedir(d);
	return first;
}
