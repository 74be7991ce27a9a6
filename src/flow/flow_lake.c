/*
 * See flow_lake.h.
 */
#include "base/common.h"
#include "db/db.h"
#include "flow/flow_lake.h"
#include "store/store.h"

int flow_lake_open(const struct ts_config *cfg, struct flow_lake *l, struct ts_err *err)
{
	struct store_opts opts;

	memset(l, 0, sizeof(*l));
	store_opts_from_config(cfg, &opts);
	if (strncmp(cfg->lake_url, "s3://", 5))
		l->root = cfg->lake_url;
	return store_open(cfg->lake_url, &opts, &l->store, err);
}

void flow_lake_close(struct flow_lake *l)
{
	store_free(l->store);
	l->store = NULL;
}

void flow_hour_dir(const char *top, const char *region, const char *day, int hour, char *out,
                   size_t size)
{
	snprintf(out, size, "%s/region=%s/date=%s/hour=%02d", top, region, day, hour);
}

void flow_enriched_key(const char *region, const char *day, int hour, uint64_t digest, char *out,
                       size_t size)
{
	snprintf(out, size, "enriched/region=%s/date=%s/hour=%02d/enriched-%016llx.parquet", region,
	         day, hour, (unsigned long long)digest);
}

void flow_enriched_staging_dir(const char *region, const char *day, int hour, char *out,
                               size_t size)
{
	snprintf(out, size, "_staging/enrich/%s-%s-%02d/", region, day, hour);
}

void flow_enriched_staged(const char *region, const char *day, int hour, uint64_t digest, char *out,
                          size_t size)
{
	snprintf(out, size, "_staging/enrich/%s-%s-%02d/enriched-%016llx.parquet", region, day,
	         hour, (unsigned long long)digest);
}

int flow_lake_move(struct flow_lake *l, const char *staged, const char *final, struct ts_err *err)
{
	int rc = store_move(l->store, staged, final, FLOW_FILE_MAX, err);

	return rc == TS_ENOTFOUND
	           ? ts_err_set(err, TS_ECORRUPT,
	                        "committed file %s is neither staged (%s) nor published", final,
	                        staged)
	           : rc;
}

struct discard {
	struct store *s;
	struct ts_err *err;
};

static int discard_one(const struct store_entry *e, void *arg)
{
	struct discard *d = arg;

	return store_delete(d->s, e->key, d->err);
}

int flow_lake_discard(struct flow_lake *l, const char *prefix, struct ts_err *err)
{
	struct discard d = {l->store, err};

	return store_list(l->store, prefix, discard_one, &d, err);
}

int flow_lock(struct db *db, const char *flow, const char *region, const char *day, int hour,
              struct ts_err *err)
{
	char h[8];
	const char *params[] = {flow, region, day, h};

	snprintf(h, sizeof(h), "%d", hour);
	return db_execp(db,
	                "SELECT pg_advisory_xact_lock(hashtext('topsongs.flow:' || $1 || ':' || $2 "
	                "|| ':' || $3 || ':' || $4))",
	                4, params, NULL, err);
}

void flow_range_params(const struct flow_args *args, char bufs[2][32], const char *params[3])
{
	params[0] = args->region && *args->region ? args->region : NULL;
	params[1] = params[2] = NULL;
	if (args->from_us) {
		snprintf(bufs[0], 32, "%.6f", (double)args->from_us / 1e6);
		params[1] = bufs[0];
	}
	if (args->to_us) {
		snprintf(bufs[1], 32, "%.6f", (double)args->to_us / 1e6);
		params[2] = bufs[1];
	}
}
