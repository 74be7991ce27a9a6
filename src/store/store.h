/*
 * The object store under the lake: a local folder (the embedded default) or
 * s3://bucket/prefix on any S3-compatible server (AWS S3, MinIO). Callers see
 * one small interface over an opaque `struct store`, opened from the lake URL;
 * each backend (store_local.c, store_s3.c) fills a `struct store_ops` vtable,
 * as Fluent Bit's outputs do.
 *
 * Keys are relative to the store's root (the folder, or the bucket prefix):
 * "raw/region=EU/date=2026-11-25/hour=13/f.parquet". A key is 1..1024 bytes
 * of '/'-separated segments, none empty, "." or "..", each at most
 * STORE_SEGMENT_MAX bytes, with no control characters and no leading or
 * trailing '/'. Every call checks its key and fails with TS_EINVAL otherwise.
 *
 * Errors: TS_EINVAL (bad URL, key or options), TS_ENOTFOUND (store_get of an
 * absent key), TS_ETOOBIG (store_get over max_size), TS_EIO (a local file
 * operation), TS_EFAILED (the server said no: access denied, no such bucket),
 * TS_EUNAVAIL (unreachable or overloaded after the retries), TS_ETIMEDOUT,
 * TS_ENOMEM. The message in err names the store and says what to do; it
 * never contains a credential.
 *
 * Threads: one store is used by one thread at a time (the S3 backend reuses
 * one libcurl handle and its connection); separate stores are independent.
 */
#ifndef STORE_STORE_H
#define STORE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "base/config.h"
#include "base/dbuf.h"
#include "base/error.h"

#define STORE_KEY_MAX     1024
#define STORE_SEGMENT_MAX 200

/* Settings of the S3 backend; the local backend ignores them. Strings are
 * copied by store_open. */
struct store_opts {
	const char *endpoint; /* "http://127.0.0.1:9000"; NULL or "" = AWS for region */
	const char *region;   /* NULL or "" = us-east-1 */
	const char *access_key;
	const char *secret_key;
	int path_style;     /* 1: ENDPOINT/bucket/key; 0: bucket.HOST/key */
	int64_t timeout_ms; /* one request attempt; 0 = 30000 */
	int max_retries;    /* retries after the first attempt */
	int64_t budget_ms;  /* no retry starts past this since the call began; 0 = none */
	size_t part_size;   /* multipart part size and threshold; 0 = 16 MiB */
	int list_page;      /* keys per ListObjectsV2 page, 1..1000; 0 = 1000 */
};

/* The store settings of a configuration (s3.*); strings point into cfg. */
void store_opts_from_config(const struct ts_config *cfg, struct store_opts *out);

enum store_kind { STORE_LOCAL, STORE_S3 };

/* A parsed lake URL. */
struct store_url {
	enum store_kind kind;
	char bucket[64];            /* S3 only */
	char prefix[STORE_KEY_MAX]; /* S3: key prefix without slashes at the ends */
	char path[4096];            /* local: the folder as given */
};

/*
 * Parses "s3://bucket[/prefix]" (bucket: 3-63 of a-z 0-9 . -), "file:///dir"
 * or a plain folder path. Other schemes ("gs://...") are TS_EINVAL.
 */
int store_url_parse(const char *url, struct store_url *out, struct ts_err *err);

/* 0 when key follows the rules above, else TS_EINVAL with the reason. */
int store_key_check(const char *key, struct ts_err *err);
/* A list prefix: "" or a key, optionally ending in '/'. */
int store_prefix_check(const char *prefix, struct ts_err *err);

struct store;

/*
 * Opens the store of url. A local folder is created when missing (mkdir -p);
 * an S3 store does no I/O until the first call. *out is freed with
 * store_free. opts may be NULL for a local folder.
 */
int store_open(const char *url, const struct store_opts *opts, struct store **out,
               struct ts_err *err);

/* NULL is a no-op. */
void store_free(struct store *s);

/* What the store is, for messages: the absolute folder, or
 * "s3://bucket/prefix at http://endpoint". Owned by s. */
const char *store_describe(const struct store *s);
enum store_kind store_kind(const struct store *s);

/*
 * Writes data[0..len) as key, replacing it atomically: readers see the old
 * object or the new one, never a part. Local: a temporary file in the same
 * folder, fsync, rename, fsync of the folder. S3: one PUT, or a multipart
 * upload when len exceeds the part size (aborted on failure).
 */
int store_put(struct store *s, const char *key, const void *data, size_t len, struct ts_err *err);

/*
 * Replaces out's contents with the object. TS_ENOTFOUND when absent,
 * TS_ETOOBIG when larger than max_size (nothing over max_size is allocated).
 */
int store_get(struct store *s, const char *key, size_t max_size, struct dbuf *out,
              struct ts_err *err);

/*
 * The last bytes of an object, at most n: replaces out's contents with them
 * and sets *size to the whole object's size (what reading a Parquet footer
 * needs). Locally a pread; on S3 one GET with a suffix Range. TS_ENOTFOUND
 * when absent.
 */
int store_get_tail(struct store *s, const char *key, size_t n, struct dbuf *out, uint64_t *size,
                   struct ts_err *err);

/*
 * Bytes [off, off + len) of an object into dst (len bytes, the caller's).
 * Locally a pread; on S3 one GET with a Range. TS_ENOTFOUND when absent,
 * TS_ECORRUPT when the object ends before off + len, TS_EIO when an S3
 * server answers without the range.
 */
int store_get_range(struct store *s, const char *key, uint64_t off, size_t len, void *dst,
                    struct ts_err *err);

/* Removes key; removing an absent key succeeds. */
int store_delete(struct store *s, const char *key, struct ts_err *err);

/*
 * Moves `from` to `to`, as publishing a staged file needs: in a folder one
 * durable rename (no copy); on S3, which has no rename, a copy through
 * memory (at most max_size bytes) then the delete of `from`. Readers see
 * `to` whole or not at all. Idempotent: when `from` is gone but `to`
 * exists, an earlier call moved it, and this one succeeds. TS_ENOTFOUND
 * when neither exists.
 */
int store_move(struct store *s, const char *from, const char *to, size_t max_size,
               struct ts_err *err);

struct store_entry {
	const char *key; /* relative to the store root; valid during the callback */
	uint64_t size;
	int64_t mtime_us; /* last modification, UTC microseconds; 0 if unknown */
};

/* Returns 0 to go on; anything else stops the listing and is returned. */
typedef int (*store_list_fn)(const struct store_entry *e, void *arg);

/*
 * Calls fn for every key starting with prefix ("" for all), in byte order of
 * the keys. Unfinished uploads and temporary files are never listed.
 */
int store_list(struct store *s, const char *prefix, store_list_fn fn, void *arg,
               struct ts_err *err);

/* The backend interface; see store_local.h and store_s3.h. */
struct store_ops {
	const char *name;
	int (*put)(void *ctx, const char *key, const void *data, size_t len, struct ts_err *err);
	int (*get)(void *ctx, const char *key, size_t max_size, struct dbuf *out,
	           struct ts_err *err);
	int (*get_tail)(void *ctx, const char *key, size_t n, struct dbuf *out, uint64_t *size,
	                struct ts_err *err);
	int (*get_range)(void *ctx, const char *key, uint64_t off, size_t len, void *dst,
	                 struct ts_err *err);
	int (*del)(void *ctx, const char *key, struct ts_err *err);
	int (*list)(void *ctx, const char *prefix, store_list_fn fn, void *arg, struct ts_err *err);
	void (*free)(void *ctx);
	/* NULL: store_move copies through get, put and del. Otherwise moves
	 * `from` to `to`, TS_ENOTFOUND when `from` is absent. */
	int (*move)(void *ctx, const char *from, const char *to, struct ts_err *err);
};

#endif
