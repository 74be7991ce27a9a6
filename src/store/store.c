/*
 * The store front: lake URL parsing, key rules, and dispatch to the backend
 * vtable chosen by store_open; see store.h.
 */
#include "base/common.h"
#include "store/store.h"
#include "store/store_local.h"
#include "store/store_s3.h"

struct store {
	const struct store_ops *ops;
	void *ctx;
	enum store_kind kind;
	char desc[1200];
};

void store_opts_from_config(const struct ts_config *cfg, struct store_opts *out)
{
	memset(out, 0, sizeof(*out));
	out->endpoint = cfg->s3_endpoint;
	out->region = cfg->s3_region;
	out->access_key = cfg->s3_access_key;
	out->secret_key = cfg->s3_secret_key;
	out->path_style = (int)cfg->s3_path_style;
	out->timeout_ms = cfg->s3_timeout_ms;
	out->max_retries = (int)cfg->s3_max_retries;
	out->part_size = (size_t)cfg->s3_part_size;
}

static int bucket_check(const char *b, size_t len, struct ts_err *err)
{
	if (len < 3 || len > 63)
		return ts_err_set(err, TS_EINVAL, "s3://%.*s: a bucket name has 3 to 63 characters",
		                  (int)(len > 63 ? 63 : len), b);
	for (size_t i = 0; i < len; i++) {
		char c = b[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-'))
			return ts_err_set(err, TS_EINVAL,
			                  "s3://%.*s: a bucket name has only a-z, 0-9, '.' and '-'",
			                  (int)len, b);
	}
	if (b[0] == '.' || b[0] == '-' || b[len - 1] == '.' || b[len - 1] == '-')
		return ts_err_set(err, TS_EINVAL,
		                  "s3://%.*s: a bucket name starts and ends with a letter or digit",
		                  (int)len, b);
	return 0;
}

static int parse_s3(const char *url, struct store_url *out, struct ts_err *err)
{
	const char *b = url + 5, *slash = strchr(b, '/');
	size_t blen = slash ? (size_t)(slash - b) : strlen(b);
	const char *p = slash ? slash + 1 : "";
	size_t plen;
	int rc;

	out->kind = STORE_S3;
	rc = bucket_check(b, blen, err);
	if (rc)
		return rc;
	memcpy(out->bucket, b, blen);
	out->bucket[blen] = '\0';
	while (*p == '/')
		p++;
	plen = strlen(p);
	while (plen && p[plen - 1] == '/')
		plen--;
	if (plen >= sizeof(out->prefix) - STORE_SEGMENT_MAX)
		return ts_err_set(err, TS_EINVAL, "%s: the prefix is too long", url);
	memcpy(out->prefix, p, plen);
	out->prefix[plen] = '\0';
	if (plen && store_key_check(out->prefix, err))
		return ts_err_wrap(err, "%s: bad prefix", url);
	return 0;
}

#define SCHEME_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-."

int store_url_parse(const char *url, struct store_url *out, struct ts_err *err)
{
	const char *scheme = strstr(url, "://");

	memset(out, 0, sizeof(*out));
	if (!strncmp(url, "s3://", 5))
		return parse_s3(url, out, err);
	if (!strncmp(url, "file://", 7))
		url += 7;
	else if (scheme && scheme > url && strspn(url, SCHEME_CHARS) == (size_t)(scheme - url))
		return ts_err_set(err, TS_EINVAL,
		                  "%.*s: unsupported lake scheme (use a folder or "
		                  "s3://bucket/prefix)",
		                  (int)(scheme - url + 3), url);
	if (!*url)
		return ts_err_set(err, TS_EINVAL, "the lake URL is empty");
	if (strlen(url) >= sizeof(out->path))
		return ts_err_set(err, TS_EINVAL, "the lake folder name is too long");
	out->kind = STORE_LOCAL;
	snprintf(out->path, sizeof(out->path), "%s", url);
	return 0;
}

static int segment_check(const char *s, size_t len, struct ts_err *err)
{
	if (!len)
		return ts_err_set(err, TS_EINVAL, "empty path segment in key");
	if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
		return ts_err_set(err, TS_EINVAL, "'.' or '..' segment in key");
	if (len > STORE_SEGMENT_MAX)
		return ts_err_set(err, TS_EINVAL, "a key segment is longer than %d bytes",
		                  STORE_SEGMENT_MAX);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return ts_err_set(err, TS_EINVAL, "control character in key");
	return 0;
}

int store_key_check(const char *key, struct ts_err *err)
{
	size_t len = key ? strlen(key) : 0;
	int rc;

	if (!len)
		return ts_err_set(err, TS_EINVAL, "empty key");
	if (len > STORE_KEY_MAX)
		return ts_err_set(err, TS_EINVAL, "key longer than %d bytes", STORE_KEY_MAX);
	for (const char *p = key;;) {
		size_t n = strcspn(p, "/");

		rc = segment_check(p, n, err);
		if (rc)
			return rc;
		if (!p[n])
			return 0;
		p += n + 1;
	}
}

int store_prefix_check(const char *prefix, struct ts_err *err)
{
	char buf[STORE_KEY_MAX + 1];
	size_t len = strlen(prefix);

	if (!len)
		return 0;
	if (len > STORE_KEY_MAX)
		return ts_err_set(err, TS_EINVAL, "prefix longer than %d bytes", STORE_KEY_MAX);
	memcpy(buf, prefix, len + 1);
	if (buf[len - 1] == '/')
		buf[len - 1] = '\0';
	/* A prefix may end inside a segment ("raw/region=E"), but not in "." or "..". */
	return store_key_check(buf, err);
}

int store_open(const char *url, const struct store_opts *opts, struct store **out,
               struct ts_err *err)
{
	struct store_opts none;
	struct store_url u;
	struct store *s = NULL;
	int rc;

	*out = NULL;
	if (!opts) {
		memset(&none, 0, sizeof(none));
		opts = &none;
	}
	rc = store_url_parse(url, &u, err);
	if (rc)
		return rc;
	s = calloc(1, sizeof(*s));
	if (!s)
		return ts_err_set(err, TS_ENOMEM, "out of memory");
	s->kind = u.kind;
	if (u.kind == STORE_S3) {
		s->ops = &store_s3_ops;
		rc = store_s3_open(&u, opts, &s->ctx, s->desc, sizeof(s->desc), err);
	} else {
		s->ops = &store_local_ops;
		rc = store_local_open(u.path, &s->ctx, s->desc, sizeof(s->desc), err);
	}
	if (rc) {
		free(s);
		return rc;
	}
	*out = s;
	return 0;
}

void store_free(struct store *s)
{
	if (!s)
		return;
	s->ops->free(s->ctx);
	free(s);
}

const char *store_describe(const struct store *s)
{
	return s->desc;
}

enum store_kind store_kind(const struct store *s)
{
	return s->kind;
}

int store_put(struct store *s, const char *key, const void *data, size_t len, struct ts_err *err)
{
	int rc = store_key_check(key, err);

	return rc ? rc : s->ops->put(s->ctx, key, data, len, err);
}

int store_get(struct store *s, const char *key, size_t max_size, struct dbuf *out,
              struct ts_err *err)
{
	int rc = store_key_check(key, err);

	return rc ? rc : s->ops->get(s->ctx, key, max_size, out, err);
}

int store_get_tail(struct store *s, const char *key, size_t n, struct dbuf *out, uint64_t *size,
                   struct ts_err *err)
{
	int rc = store_key_check(key, err);

	return rc ? rc : s->ops->get_tail(s->ctx, key, n, out, size, err);
}

int store_get_range(struct store *s, const char *key, uint64_t off, size_t len, void *dst,
                    struct ts_err *err)
{
	int rc = store_key_check(key, err);

	return rc ? rc : s->ops->get_range(s->ctx, key, off, len, dst, err);
}

int store_delete(struct store *s, const char *key, struct ts_err *err)
{
	int rc = store_key_check(key, err);

	return rc ? rc : s->ops->del(s->ctx, key, err);
}

/* Whether key exists (without reading it: nothing is allocated). */
static int exists(struct store *s, const char *key, struct ts_err *err)
{
	struct dbuf none;
	int rc;

	dbuf_init(&none, 0);
	rc = s->ops->get(s->ctx, key, 0, &none, err);
	dbuf_release(&none);
	if (rc == TS_ETOOBIG || rc == 0)
		return 1;
	return rc == TS_ENOTFOUND ? 0 : rc;
}

static int copy_move(struct store *s, const char *from, const char *to, size_t max_size,
                     struct ts_err *err)
{
	struct dbuf buf;
	int rc;

	dbuf_init(&buf, max_size);
	rc = s->ops->get(s->ctx, from, max_size, &buf, err);
	rc = rc ? rc : s->ops->put(s->ctx, to, buf.buf ? buf.buf : "", buf.len, err);
	rc = rc ? rc : s->ops->del(s->ctx, from, err);
	dbuf_release(&buf);
	return rc;
}

int store_move(struct store *s, const char *from, const char *to, size_t max_size,
               struct ts_err *err)
{
	int rc = store_key_check(from, err);

	rc = rc ? rc : store_key_check(to, err);
	if (rc)
		return rc;
	rc = s->ops->move ? s->ops->move(s->ctx, from, to, err)
	                  : copy_move(s, from, to, max_size, err);
	if (rc != TS_ENOTFOUND)
		return rc;
	rc = exists(s, to, err);
	if (rc < 0)
		return rc;
	return rc ? 0 : ts_err_set(err, TS_ENOTFOUND, "%s: neither it nor %s exists", to, from);
}

int store_list(struct store *s, const char *prefix, store_list_fn fn, void *arg, struct ts_err *err)
{
	int rc = store_prefix_check(prefix ? prefix : "", err);

	return rc ? rc : s->ops->list(s->ctx, prefix ? prefix : "", fn, arg, err);
}
