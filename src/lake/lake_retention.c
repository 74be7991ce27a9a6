/*
 * See lake_retention.h. The hours to prune are gathered first (bookkeeping
 * and listings), sorted and made unique, then handled one by one; each hour
 * is small work, so a run can be stopped (SIGINT) between hours.
 */
#include "base/common.h"
#include "base/failpoint.h"
#include "base/log.h"
#include "base/progress.h"
#include "base/timeutil.h"
#include "db/db.h"
#include "flow/flow_lake.h"
#include "ingest/ingest_compact.h"
#include "lake/lake_key.h"
#include "lake/lake_retention.h"
#include "store/store.h"

#include <errno.h>
#include <unistd.h>

struct hour_id {
	char region[16], day[16];
	int hour;
};

struct hours {
	struct hour_id *v;
	size_t n, cap;
};

struct ret {
	struct db *db;
	struct flow_lake lake;
	const struct lake_retention_opts *o;
	struct lake_retention_stats *st;
	lake_retention_fn fn;
	void *arg;
};

/* ---- keys ---------------------------------------------------------------- */

static int old_enough(const struct ret *r, const struct hour_id *h)
{
	return lake_key_hour_us(h->day, h->hour) + 3600 * TIME_US_PER_SEC <= r->o->cutoff_us;
}

/* ---- the set of hours ---------------------------------------------------- */

static int hours_add(struct hours *hs, const char *region, const char *day, int hour)
{
	struct hour_id *h;

	if (hs->n == hs->cap) {
		size_t cap = hs->cap ? hs->cap * 2 : 256;
		struct hour_id *v;

		if (hs->n >= LAKE_RETENTION_MAX_HOURS)
			return TS_ETOOBIG;
		v = realloc(hs->v, cap * sizeof(*v));
		if (!v)
			return TS_ENOMEM;
		hs->v = v;
		hs->cap = cap;
	}
	h = &hs->v[hs->n++];
	snprintf(h->region, sizeof(h->region), "%s", region);
	snprintf(h->day, sizeof(h->day), "%s", day);
	h->hour = hour;
	return 0;
}

/* Oldest first; regions in byte order within an hour. */
static int hour_cmp(const void *pa, const void *pb)
{
	const struct hour_id *a = pa, *b = pb;
	int c = strcmp(a->day, b->day);

	if (!c)
		c = a->hour - b->hour;
	return c ? c : strcmp(a->region, b->region);
}

static void hours_unique(struct hours *hs)
{
	size_t w = 0;

	if (hs->n)
		qsort(hs->v, hs->n, sizeof(*hs->v), hour_cmp);
	for (size_t i = 0; i < hs->n; i++)
		if (!w || hour_cmp(&hs->v[w - 1], &hs->v[i]))
			hs->v[w++] = hs->v[i];
	hs->n = w;
}

static int hours_from_result(struct hours *hs, PGresult *res)
{
	int rc = 0;

	for (int i = 0; !rc && i < PQntuples(res); i++)
		rc = hours_add(hs, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
		               (int)strtol(PQgetvalue(res, i, 2), NULL, 10));
	return rc;
}

/* Hours named in the bookkeeping that end by the cut-off. */
static int hours_from_db(struct ret *r, struct hours *hs, struct ts_err *err)
{
	char cutoff[32];
	const char *params[] = {cutoff, r->o->region};
	PGresult *res = NULL;
	int rc;

	snprintf(cutoff, sizeof(cutoff), "%.6f", (double)r->o->cutoff_us / 1e6);
	rc = db_execp(r->db,
	              "SELECT region, day::text, hour FROM (SELECT region, day, hour FROM "
	              "ingest_files UNION SELECT region, day, hour FROM lake_hours UNION SELECT "
	              "region, day, hour FROM flow_enriched_files) h WHERE (day + make_interval("
	              "hours => hour + 1)) AT TIME ZONE 'UTC' <= to_timestamp($1) AND ($2::text IS "
	              "NULL OR region = $2)",
	              2, params, &res, err);
	if (!rc && hours_from_result(hs, res))
		rc = ts_err_set(err, TS_ETOOBIG, "more than %d hours to prune in one run",
		                LAKE_RETENTION_MAX_HOURS);
	PQclear(res);
	return rc;
}

struct listing {
	struct ret *r;
	struct hours *hs;
	int rc;
};

/* Keys list in byte order, so within raw/region=R/ dates ascend: the first
 * hour past the cut-off ends the walk. */
static int on_key(const struct store_entry *e, void *arg)
{
	struct listing *l = arg;
	struct hour_id h;

	if (lake_key_parse(e->key, h.region, h.day, &h.hour))
		return 0; /* not a partition file (a stray key): not ours to judge */
	if (!old_enough(l->r, &h))
		return 1;
	if (l->hs->n && !hour_cmp(&l->hs->v[l->hs->n - 1], &h))
		return 0;
	l->rc = hours_add(l->hs, h.region, h.day, h.hour);
	return l->rc ? 1 : 0;
}

static int list_region(struct ret *r, struct hours *hs, const char *top, const char *region,
                       struct ts_err *err)
{
	char prefix[FLOW_KEY_MAX];
	struct listing l = {r, hs, 0};
	int rc;

	snprintf(prefix, sizeof(prefix), "%s/region=%s/", top, region);
	rc = store_list(r->lake.store, prefix, on_key, &l, err);
	if (l.rc)
		return ts_err_set(err, l.rc, "listing %s: more than %d hours to prune", prefix,
		                  LAKE_RETENTION_MAX_HOURS);
	return rc == 1 ? 0 : rc;
}

/* Hours found by listing the configured regions' partitions. */
static int hours_from_lake(struct ret *r, const struct ts_config *cfg, struct hours *hs,
                           struct ts_err *err)
{
	char regions[1024], *save = NULL, *tok;
	static const char *const tops[] = {"raw", "enriched"};
	int rc = 0;

	snprintf(regions, sizeof(regions), "%s", r->o->region ? r->o->region : cfg->regions);
	for (tok = strtok_r(regions, " ,", &save); !rc && tok; tok = strtok_r(NULL, " ,", &save))
		for (size_t t = 0; !rc && t < ARRAY_SIZE(tops); t++)
			rc = list_region(r, hs, tops[t], tok, err);
	return rc;
}

/* ---- one hour ------------------------------------------------------------ */

struct deleter {
	struct ret *r;
	int64_t n;
	struct ts_err *err;
};

static int delete_one(const struct store_entry *e, void *arg)
{
	struct deleter *d = arg;

	d->n++;
	if (d->r->o->dry_run)
		return 0;
	return store_delete(d->r->lake.store, e->key, d->err);
}

/* A local lake keeps empty folders after its files go: remove the hour's
 * folder and, when they are empty too, `levels - 1` folders above it (date
 * and region). Not above a staging folder: enrich creates its siblings at
 * any time, and an rmdir between its mkdirs would fail its put. */
static void remove_empty_dirs(struct ret *r, const char *dir, int levels)
{
	char path[4096];

	if (!r->lake.root)
		return;
	snprintf(path, sizeof(path), "%s/%s", r->lake.root, dir);
	for (int up = 0; up < levels; up++) {
		char *slash;

		if (rmdir(path) && errno != ENOENT)
			return; /* not empty (another hour), or not ours */
		slash = strrchr(path, '/');
		if (!slash)
			return;
		*slash = '\0';
	}
}

/* Step 2: every object of the hour. *objects gets how many were found. */
static int delete_files(struct ret *r, const struct hour_id *h, int64_t *objects,
                        struct ts_err *err)
{
	char raw[FLOW_KEY_MAX], enr[FLOW_KEY_MAX], staging[FLOW_KEY_MAX], prefix[FLOW_KEY_MAX];
	const char *dirs[] = {raw, enr, staging};
	struct deleter d = {r, 0, err};
	int rc = 0;

	flow_hour_dir("raw", h->region, h->day, h->hour, raw, sizeof(raw));
	flow_hour_dir("enriched", h->region, h->day, h->hour, enr, sizeof(enr));
	flow_enriched_staging_dir(h->region, h->day, h->hour, staging, sizeof(staging));
	for (size_t i = 0; !rc && i < ARRAY_SIZE(dirs); i++) {
		/* "hour=13/", so that hour=1 never matches hour=13 */
		snprintf(prefix, sizeof(prefix), "%s%s", dirs[i],
		         dirs[i][strlen(dirs[i]) - 1] == '/' ? "" : "/");
		rc = store_list(r->lake.store, prefix, delete_one, &d, err);
		if (!rc && !r->o->dry_run)
			remove_empty_dirs(r, dirs[i], dirs[i] == staging ? 1 : 3);
	}
	*objects = d.n;
	return rc;
}

static const char *const hour_params_sql = "region = $1 AND day = $2::date AND hour = $3::int";

/* Work of the hour not yet in the charts: raw files unpublished or not
 * enriched, enriched files unpublished or not aggregated. */
static int pending(struct ret *r, const char *const params[3], int *n, struct ts_err *err)
{
	char sql[1024];
	PGresult *res = NULL;
	int rc;

	snprintf(sql, sizeof(sql),
	         "SELECT (SELECT count(*) FROM ingest_files f WHERE %s AND (NOT published OR NOT "
	         "EXISTS (SELECT 1 FROM flow_enrich_inputs i WHERE i.raw_path = f.path))) + "
	         "(SELECT count(*) FROM flow_enriched_files WHERE %s AND (NOT published OR NOT "
	         "aggregated))",
	         hour_params_sql, hour_params_sql);
	rc = db_execp(r->db, sql, 3, params, &res, err);
	if (!rc)
		*n = (int)strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return rc;
}

/* Step 1's deletes, in one transaction with the lake_pruned row. */
static int delete_rows(struct ret *r, const char *const params[3], struct ts_err *err)
{
	static const char *const stmts[] = {
	    ("DELETE FROM flow_enrich_inputs WHERE raw_path IN (SELECT path FROM ingest_files "
	     "WHERE %s)"),
	    "DELETE FROM flow_enriched_files WHERE %s", /* cascades to flow_enrich_inputs */
	    "DELETE FROM lake_hours WHERE %s",
	};
	char sql[512];
	PGresult *res = NULL;
	int rc = 0;

	for (size_t i = 0; !rc && i < ARRAY_SIZE(stmts); i++) {
		snprintf(sql, sizeof(sql), stmts[i], hour_params_sql);
		rc = db_execp(r->db, sql, 3, params, NULL, err);
	}
	/* Only published rows: a row committed meanwhile by ingest, not yet
	 * published (it waits for the hour lock we hold), stays. */
	snprintf(sql, sizeof(sql),
	         "WITH d AS (DELETE FROM ingest_files WHERE %s AND published RETURNING rows) "
	         "INSERT INTO lake_pruned (region, day, hour, raw_rows) SELECT $1, $2::date, "
	         "$3::int, coalesce(sum(rows), 0) FROM d ON CONFLICT (region, day, hour) DO UPDATE "
	         "SET raw_rows = lake_pruned.raw_rows + EXCLUDED.raw_rows, pruned_at = now(), "
	         "files_deleted_at = NULL RETURNING raw_rows",
	         hour_params_sql);
	rc = rc ? rc : db_execp(r->db, sql, 3, params, &res, err);
	if (!rc)
		r->st->raw_rows += strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return rc;
}

static int mark_files_deleted(struct ret *r, const char *const params[3], struct ts_err *err)
{
	char sql[256];

	snprintf(sql, sizeof(sql), "UPDATE lake_pruned SET files_deleted_at = now() WHERE %s",
	         hour_params_sql);
	return db_execp(r->db, sql, 3, params, NULL, err);
}

/* Steps 1 to 3 for one hour; *verdict says what happened. */
static int prune_locked(struct ret *r, const struct hour_id *h, const char *const params[3],
                        const char **verdict, int64_t *objects, struct ts_err *err)
{
	int n = 0, rc = pending(r, params, &n, err);

	if (!rc && n) {
		*verdict = "kept: not yet in the charts";
		r->st->hours_pending++;
		return db_exec(r->db, "ROLLBACK", err);
	}
	if (r->o->dry_run) {
		rc = rc ? rc : db_exec(r->db, "ROLLBACK", err);
		rc = rc ? rc : delete_files(r, h, objects, err);
		*verdict = "would prune";
		return rc;
	}
	rc = rc ? rc : delete_rows(r, params, err);
	rc = rc ? rc : db_exec(r->db, "COMMIT", err);
	if (rc)
		return rc;
	failpoint("retention.committed");
	rc = delete_files(r, h, objects, err);
	if (!rc)
		failpoint("retention.files-deleted");
	rc = rc ? rc : mark_files_deleted(r, params, err);
	*verdict = "pruned";
	return rc;
}

static int prune_hour(struct ret *r, const struct hour_id *h, int resume, struct ts_err *err)
{
	char hour[8], dir[FLOW_KEY_MAX];
	const char *params[] = {h->region, h->day, hour}, *verdict = "";
	int64_t objects = 0;
	int rc, locked = 0;

	snprintf(hour, sizeof(hour), "%d", h->hour);
	flow_hour_dir("raw", h->region, h->day, h->hour, dir, sizeof(dir));
	/* enrich takes its lock and then the hour lock: the same order here */
	rc = db_exec(r->db, "BEGIN", err);
	rc = rc ? rc : flow_lock(r->db, "enrich", h->region, h->day, h->hour, err);
	rc = rc ? rc : ingest_hour_lock(r->db, dir, 1, err);
	locked = !rc;
	if (!rc && resume) {
		rc = db_exec(r->db, "COMMIT", err);
		rc = rc ? rc : delete_files(r, h, &objects, err);
		rc = rc ? rc : mark_files_deleted(r, params, err);
		verdict = "finished (interrupted before)";
		r->st->hours_resumed += !rc;
	} else if (!rc) {
		rc = prune_locked(r, h, params, &verdict, &objects, err);
		r->st->hours += !rc && strncmp(verdict, "kept", 4);
	}
	if (rc)
		db_exec(r->db, "ROLLBACK", NULL);
	if (locked)
		ingest_hour_lock(r->db, dir, 0, NULL);
	if (rc)
		return ts_err_wrap(err, "%s %s hour %02d", h->region, h->day, h->hour);
	r->st->objects += objects;
	if (!r->o->dry_run && strncmp(verdict, "kept", 4))
		log_info("retention: hour pruned", "region=%s day=%s hour=%02d objects=%lld%s",
		         h->region, h->day, h->hour, (long long)objects,
		         resume ? " resumed=true" : "");
	if (r->fn)
		r->fn(h->region, h->day, h->hour, verdict, objects, r->arg);
	return 0;
}

/* ---- the run ------------------------------------------------------------- */

static int resume_interrupted(struct ret *r, struct ts_err *err)
{
	struct hours hs = {0};
	PGresult *res = NULL;
	int rc;

	if (r->o->dry_run)
		return 0;
	rc = db_execp(r->db,
	              "SELECT region, day::text, hour FROM lake_pruned WHERE files_deleted_at IS "
	              "NULL ORDER BY day, hour, region",
	              0, NULL, &res, err);
	if (!rc && hours_from_result(&hs, res))
		rc = ts_err_set(err, TS_ENOMEM, "out of memory");
	PQclear(res);
	for (size_t i = 0; !rc && i < hs.n; i++)
		rc = prune_hour(r, &hs.v[i], 1, err);
	free(hs.v);
	return rc;
}

static int prune_all(struct ret *r, struct hours *hs, struct ts_err *err)
{
	struct progress pg;
	int rc = 0;

	progress_begin(&pg, "retention", hs->n);
	for (size_t i = 0; !rc && i < hs->n; i++) {
		progress_update(&pg, i, "hours, now %s %s %02d", hs->v[i].region, hs->v[i].day,
		                hs->v[i].hour);
		rc = prune_hour(r, &hs->v[i], 0, err);
	}
	progress_end(&pg);
	return rc;
}

int lake_retention_run(struct db *db, const struct ts_config *cfg,
                       const struct lake_retention_opts *o, lake_retention_fn fn, void *arg,
                       struct lake_retention_stats *st, struct ts_err *err)
{
	struct ret r = {.db = db, .o = o, .st = st, .fn = fn, .arg = arg};
	struct hours hs = {0};
	int rc;

	memset(st, 0, sizeof(*st));
	rc = flow_lake_open(cfg, &r.lake, err);
	rc = rc ? rc : resume_interrupted(&r, err);
	rc = rc ? rc : hours_from_db(&r, &hs, err);
	rc = rc ? rc : hours_from_lake(&r, cfg, &hs, err);
	if (!rc) {
		hours_unique(&hs);
		rc = prune_all(&r, &hs, err);
	}
	free(hs.v);
	flow_lake_close(&r.lake);
	return rc;
}
