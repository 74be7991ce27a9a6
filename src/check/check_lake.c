/*
 * The lake probe; see check_lake.h. Everything goes through the store
 * (store/store.h), so the probe exercises exactly what ingest uses. A local
 * folder's calls cannot be given a deadline (an fsync on a hung network mount
 * blocks), so the runner's hard deadline in check.c bounds them; S3 requests
 * get the probe's timeout as their deadline and retry budget.
 */
#include "base/common.h"
#include "base/error.h"
#include "base/timeutil.h"
#include "check/check_lake.h"
#include "store/store.h"

#include <stdatomic.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define PROBE_MAX 256

static void free_space(const char *dir, char *out, size_t size)
{
	struct statvfs vfs;

	if (statvfs(dir, &vfs)) {
		snprintf(out, size, "free space unknown");
		return;
	}
	snprintf(out, size, "%.1f GiB free",
	         (double)vfs.f_bavail * (double)vfs.f_frsize / (1024.0 * 1024.0 * 1024.0));
}

static int probe_ok(struct store *s, struct check_result *out)
{
	char space[64];

	if (store_kind(s) == STORE_S3)
		return check_result_ok(out, "wrote, read back and deleted an object");
	free_space(store_describe(s), space, sizeof(space));
	return check_result_ok(out, "wrote, synced, read back and deleted a file; %s", space);
}

/* Writes, reads back, compares and deletes one probe object. */
static int probe_object(struct store *s, struct check_result *out)
{
	static atomic_uint seq;
	char key[96], data[128];
	struct ts_err err;
	struct dbuf back;
	size_t len;
	int rc;

	snprintf(key, sizeof(key), ".topsongs-check-%ld-%u", (long)getpid(),
	         atomic_fetch_add(&seq, 1));
	len = (size_t)snprintf(data, sizeof(data), "topsongs check probe %lld\n",
	                       (long long)time_now_us());
	dbuf_init(&back, PROBE_MAX);
	ts_err_clear(&err);
	rc = store_put(s, key, data, len, &err);
	if (rc) {
		rc = check_result_fail(out, rc, "%s", err.msg);
		goto out;
	}
	rc = store_get(s, key, PROBE_MAX, &back, &err);
	if (!rc && (back.len != len || memcmp(back.buf, data, len)))
		rc = ts_err_set(&err, TS_ECORRUPT, "probe file in %s read back different bytes",
		                store_describe(s));
	if (rc) {
		store_delete(s, key, NULL);
		rc = check_result_fail(out, rc, "%s", err.msg);
		goto out;
	}
	rc = store_delete(s, key, &err);
	rc = rc ? check_result_fail(out, rc, "%s", err.msg) : probe_ok(s, out);
out:
	dbuf_release(&back);
	return rc;
}

int check_lake_probe(const struct ts_config *cfg, int64_t timeout_ms, struct check_result *out)
{
	struct store_opts opts;
	struct store *s = NULL;
	struct ts_err err;
	int rc;

	check_result_target(out, "%s", cfg->lake_url);
	if (!cfg->lake_url[0])
		return check_result_fail(out, TS_EINVAL, "lake.url is empty");
	store_opts_from_config(cfg, &opts);
	if (opts.timeout_ms > timeout_ms)
		opts.timeout_ms = timeout_ms;
	opts.budget_ms = timeout_ms;
	ts_err_clear(&err);
	rc = store_open(cfg->lake_url, &opts, &s, &err);
	if (rc) {
		rc = check_result_fail(out, rc, "%s", err.msg);
	} else {
		check_result_target(out, "%s", store_describe(s));
		rc = probe_object(s, out);
	}
	/* Defence in depth: no message may carry a credential. */
	check_result_scrub(out->reason, sizeof(out->reason), cfg->s3_secret_key);
	store_free(s);
	return rc;
}
