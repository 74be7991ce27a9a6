/*
 * The S3 store backend; see store_s3.h: keys under the URL's prefix, object
 * operations, the multipart upload and paged listing, each a sequence of
 * requests run by store_s3_req_run (signing, retries, error messages).
 */
#include "base/common.h"
#include "base/log.h"
#include "store/store_s3.h"
#include "store/store_s3_req.h"
#include "store/store_s3_xml.h"

struct s3 {
	struct store_s3_conn c;
	char prefix[STORE_KEY_MAX];
	size_t part_size;
	int list_page;
};

/* ---- object operations ---- */

static void full_key(const struct s3 *s, const char *key, char *out, size_t size)
{
	snprintf(out, size, "%s%s%s", s->prefix, s->prefix[0] ? "/" : "", key);
}

static int s3_put_one(struct s3 *s, const char *key, const void *data, size_t len,
                      struct ts_err *err)
{
	struct store_s3_req req = {.method = "PUT", .key = key, .body = data, .body_len = len};

	req.content_type = "application/octet-stream";
	return store_s3_req_run(&s->c, &req, err);
}

static int s3_put_multipart(struct s3 *s, const char *key, const void *data, size_t len,
                            struct ts_err *err);

static int s3_put(void *ctx, const char *key, const void *data, size_t len, struct ts_err *err)
{
	struct s3 *s = ctx;
	char full[STORE_KEY_MAX * 2 + 2];

	full_key(s, key, full, sizeof(full));
	if (strlen(full) > STORE_KEY_MAX)
		return ts_err_set(err, TS_EINVAL, "%s/%s: key longer than %d bytes with the prefix",
		                  s->c.name, key, STORE_KEY_MAX);
	if (len > s->part_size)
		return s3_put_multipart(s, full, data, len, err);
	return s3_put_one(s, full, data, len, err);
}

static int s3_get(void *ctx, const char *key, size_t max_size, struct dbuf *out, struct ts_err *err)
{
	struct s3 *s = ctx;
	char full[STORE_KEY_MAX * 2 + 2];
	struct store_s3_req req = {.method = "GET", .key = full};
	size_t saved = out->max;
	int rc;

	full_key(s, key, full, sizeof(full));
	/* The tighter of the two caps bounds what the download may allocate. */
	if (max_size < out->max)
		out->max = max_size;
	req.resp = out;
	rc = store_s3_req_run(&s->c, &req, err);
	out->max = saved;
	return rc;
}

/* One GET with a suffix range: the server answers 206 with the last n bytes
 * and the whole size in Content-Range, 200 with the whole object when it
 * ignores ranges, or 416 for an empty object (no last byte to give). */
static int s3_get_tail(void *ctx, const char *key, size_t n, struct dbuf *out, uint64_t *size,
                       struct ts_err *err)
{
	struct s3 *s = ctx;
	char full[STORE_KEY_MAX * 2 + 2], range[48];
	struct store_s3_req req = {.method = "GET", .key = full, .range = range};
	size_t saved = out->max;
	int rc;

	if (!n) /* "bytes=-0" is not a range */
		n = 1;
	full_key(s, key, full, sizeof(full));
	snprintf(range, sizeof(range), "bytes=-%zu", n);
	if (n < out->max)
		out->max = n;
	req.resp = out;
	rc = store_s3_req_run(&s->c, &req, err);
	out->max = saved;
	if (rc && req.status == 416) {
		ts_err_clear(err);
		dbuf_reset(out);
		*size = 0;
		return 0;
	}
	if (rc)
		return rc;
	if (req.status == 206 && (req.range_total < (int64_t)out->len))
		return ts_err_set(err, TS_ECORRUPT,
		                  "s3: %s answered a range of %s without a usable Content-Range",
		                  s->c.endpoint, full);
	*size = req.status == 206 ? (uint64_t)req.range_total : out->len;
	return 0;
}

/* One GET with "Range: bytes=off-last": only a 206 with exactly the
 * range's bytes will do (a 200 is a server that ignored the range). */
static int s3_get_range(void *ctx, const char *key, uint64_t off, size_t len, void *dst,
                        struct ts_err *err)
{
	struct s3 *s = ctx;
	char full[STORE_KEY_MAX * 2 + 2], range[64];
	struct store_s3_req req = {.method = "GET", .key = full, .range = range};
	struct dbuf out;
	int rc;

	if (!len)
		return 0;
	full_key(s, key, full, sizeof(full));
	snprintf(range, sizeof(range), "bytes=%llu-%llu", (unsigned long long)off,
	         (unsigned long long)(off + len - 1));
	dbuf_init(&out, len);
	req.resp = &out;
	rc = store_s3_req_run(&s->c, &req, err);
	if (rc && req.status == 416)
		rc = ts_err_set(err, TS_ECORRUPT, "s3: %s: %zu bytes at %llu are past its end",
		                full, len, (unsigned long long)off);
	else if (!rc && req.status != 206)
		rc = ts_err_set(err, TS_EIO, "s3: %s answered %ld, not the range asked for %s",
		                s->c.endpoint, (long)req.status, full);
	else if (!rc && out.len != len)
		rc =
		    ts_err_set(err, TS_ECORRUPT, "s3: %s: %zu of %zu bytes at %llu (past its end?)",
		               full, out.len, len, (unsigned long long)off);
	if (!rc)
		memcpy(dst, out.buf, len);
	dbuf_release(&out);
	return rc;
}

static int s3_del(void *ctx, const char *key, struct ts_err *err)
{
	struct s3 *s = ctx;
	char full[STORE_KEY_MAX * 2 + 2];
	struct store_s3_req req = {.method = "DELETE", .key = full};
	int rc;

	full_key(s, key, full, sizeof(full));
	rc = store_s3_req_run(&s->c, &req, err);
	return rc == TS_ENOTFOUND ? 0 : rc;
}

/* ---- multipart upload ---- */

/* "uploadId=" + the encoded id, optionally after "partNumber=N&". */
static int upload_query(const char *id, int part, struct dbuf *q)
{
	int rc = 0;

	dbuf_reset(q);
	if (part)
		rc = dbuf_addf(q, "partNumber=%d&", part);
	if (!rc)
		rc = dbuf_addstr(q, "uploadId=");
	return rc ? rc : store_s3_req_uri_encode(id, 0, q);
}

static int mp_initiate(struct s3 *s, const char *key, char *id, size_t size, struct ts_err *err)
{
	struct dbuf resp;
	struct store_s3_req req = {.method = "POST", .key = key, .query = "uploads="};
	int rc;

	dbuf_init(&resp, STORE_S3_ERR_MAX);
	req.resp = &resp;
	rc = store_s3_req_run(&s->c, &req, err);
	if (!rc && store_s3_xml_text(resp.buf ? resp.buf : "", resp.len, "UploadId", id, size))
		rc = ts_err_set(err, TS_ECORRUPT, "s3: %s gave no usable UploadId for %s",
		                s->c.endpoint, key);
	dbuf_release(&resp);
	return rc;
}

static int mp_part(struct s3 *s, const char *key, const char *id, int part, const char *data,
                   size_t len, char *etag, struct ts_err *err)
{
	struct dbuf q;
	struct store_s3_req req = {.method = "PUT", .key = key, .body = data, .body_len = len};
	int rc;

	dbuf_init(&q, STORE_S3_URL_MAX);
	rc = upload_query(id, part, &q);
	req.query = dbuf_str(&q);
	if (!rc)
		rc = store_s3_req_run(&s->c, &req, err);
	else
		rc = ts_err_set(err, rc, "upload id too long");
	if (!rc && !req.etag[0])
		rc = ts_err_set(err, TS_ECORRUPT, "s3: %s sent no ETag for part %d of %s",
		                s->c.endpoint, part, key);
	if (!rc)
		snprintf(etag, STORE_S3_ETAG_MAX, "%s", req.etag);
	dbuf_release(&q);
	return rc;
}

static int mp_complete_body(const char (*etags)[STORE_S3_ETAG_MAX], int n, struct dbuf *b)
{
	int rc = dbuf_addstr(b, "<CompleteMultipartUpload>");

	for (int i = 0; !rc && i < n; i++) {
		rc = dbuf_addf(b, "<Part><PartNumber>%d</PartNumber><ETag>", i + 1);
		for (const char *p = etags[i]; !rc && *p; p++)
			rc = *p == '&'   ? dbuf_addstr(b, "&amp;")
			     : *p == '<' ? dbuf_addstr(b, "&lt;")
			                 : dbuf_addc(b, *p);
		if (!rc)
			rc = dbuf_addstr(b, "</ETag></Part>");
	}
	return rc ? rc : dbuf_addstr(b, "</CompleteMultipartUpload>");
}

static int mp_complete(struct s3 *s, const char *key, const char *id,
                       const char (*etags)[STORE_S3_ETAG_MAX], int n, struct ts_err *err)
{
	struct dbuf q, body, resp;
	struct store_s3_req req = {.method = "POST", .key = key, .content_type = "application/xml"};
	int rc;

	dbuf_init(&q, STORE_S3_URL_MAX);
	dbuf_init(&body, (size_t)n * (STORE_S3_ETAG_MAX + 64) + 128);
	dbuf_init(&resp, STORE_S3_ERR_MAX);
	rc = upload_query(id, 0, &q);
	if (!rc)
		rc = mp_complete_body(etags, n, &body);
	if (rc) {
		rc = ts_err_set(err, rc, "s3: cannot build the CompleteMultipartUpload request");
		goto out;
	}
	req.query = dbuf_str(&q);
	req.body = body.buf;
	req.body_len = body.len;
	req.resp = &resp;
	req.check_2xx_error = 1; /* S3 may answer 200 and still fail */
	rc = store_s3_req_run(&s->c, &req, err);
out:
	dbuf_release(&resp);
	dbuf_release(&body);
	dbuf_release(&q);
	return rc;
}

static void mp_abort(struct s3 *s, const char *key, const char *id)
{
	struct dbuf q;
	struct store_s3_req req = {.method = "DELETE", .key = key};

	dbuf_init(&q, STORE_S3_URL_MAX);
	if (!upload_query(id, 0, &q)) {
		req.query = dbuf_str(&q);
		if (store_s3_req_run(&s->c, &req, NULL))
			log_warn("s3: could not abort a multipart upload", "key=%s", key);
	}
	dbuf_release(&q);
}

static int s3_put_multipart(struct s3 *s, const char *key, const void *data, size_t len,
                            struct ts_err *err)
{
	size_t nparts = (len + s->part_size - 1) / s->part_size;
	char(*etags)[STORE_S3_ETAG_MAX] = NULL;
	char id[1024];
	int rc;

	if (nparts > STORE_S3_MAX_PARTS)
		return ts_err_set(err, TS_ETOOBIG, "%s: %zu bytes need more than %d parts of %zu",
		                  key, len, STORE_S3_MAX_PARTS, s->part_size);
	etags = calloc(nparts, sizeof(*etags));
	if (!etags)
		return ts_err_set(err, TS_ENOMEM, "out of memory");
	rc = mp_initiate(s, key, id, sizeof(id), err);
	if (rc)
		goto out;
	for (size_t i = 0; !rc && i < nparts; i++) {
		size_t off = i * s->part_size;
		size_t n = len - off < s->part_size ? len - off : s->part_size;

		rc = mp_part(s, key, id, (int)i + 1, (const char *)data + off, n, etags[i], err);
	}
	if (!rc)
		rc = mp_complete(s, key, id, (const char(*)[STORE_S3_ETAG_MAX])etags, (int)nparts,
		                 err);
	if (rc)
		mp_abort(s, key, id);
out:
	free(etags);
	return rc;
}

/* ---- listing ---- */

struct list_ctx {
	const struct s3 *s;
	store_list_fn fn;
	void *arg;
};

static int on_entry(const char *key, uint64_t size, int64_t mtime_us, void *arg)
{
	struct list_ctx *l = arg;
	size_t pl = strlen(l->s->prefix);
	struct store_entry e;

	if (pl && (strncmp(key, l->s->prefix, pl) || key[pl] != '/'))
		return 0; /* not ours: cannot happen with our prefix, skip safely */
	e.key = key + (pl ? pl + 1 : 0);
	e.size = size;
	e.mtime_us = mtime_us;
	return l->fn(&e, l->arg);
}

static int list_query(const char *token, int page_keys, const char *prefix, struct dbuf *q)
{
	int rc = 0;

	dbuf_reset(q);
	if (token[0]) {
		rc = dbuf_addstr(q, "continuation-token=");
		if (!rc)
			rc = store_s3_req_uri_encode(token, 0, q);
		if (!rc)
			rc = dbuf_addc(q, '&');
	}
	if (!rc)
		rc = dbuf_addf(q, "list-type=2&max-keys=%d&prefix=", page_keys);
	return rc ? rc : store_s3_req_uri_encode(prefix, 0, q);
}

static int s3_list(void *ctx, const char *prefix, store_list_fn fn, void *arg, struct ts_err *err)
{
	struct s3 *s = ctx;
	struct list_ctx l = {s, fn, arg};
	struct store_s3_list_page page;
	char full[STORE_KEY_MAX * 2 + 2];
	struct dbuf q, resp;
	int rc = 0;

	full_key(s, prefix, full, sizeof(full));
	if (!prefix[0] && s->prefix[0])
		snprintf(full, sizeof(full), "%s/", s->prefix);
	dbuf_init(&q, STORE_S3_URL_MAX);
	dbuf_init(&resp, STORE_S3_LIST_MAX);
	page.token[0] = '\0';
	do {
		struct store_s3_req req = {.method = "GET", .resp = &resp};

		if (list_query(page.token, s->list_page, full, &q)) {
			rc = ts_err_set(err, TS_ETOOBIG, "s3: listing query too long");
			break;
		}
		req.query = dbuf_str(&q);
		rc = store_s3_req_run(&s->c, &req, err);
		if (!rc)
			rc = store_s3_xml_list(dbuf_str(&resp), resp.len, on_entry, &l, &page, err);
	} while (!rc && page.truncated);
	dbuf_release(&resp);
	dbuf_release(&q);
	return rc;
}

/* ---- open, free ---- */

static void s3_free(void *ctx)
{
	struct s3 *s = ctx;

	if (!s)
		return;
	if (s->c.curl)
		curl_easy_cleanup(s->c.curl);
	curl_global_cleanup();
	free(s->c.access_key);
	free(s->c.secret_key);
	free(s);
}

static int region_check(const char *r, struct ts_err *err)
{
	if (!*r || strlen(r) > 32 ||
	    strspn(r, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(r))
		return ts_err_set(err, TS_EINVAL, "s3.region '%s' is not a region name", r);
	return 0;
}

static int s3_config(struct s3 *s, const struct store_url *u, const struct store_opts *o,
                     struct ts_err *err)
{
	const char *region = o->region && o->region[0] ? o->region : "us-east-1";
	int rc = region_check(region, err);

	if (rc)
		return rc;
	if (!o->access_key || !o->access_key[0] || !o->secret_key || !o->secret_key[0])
		return ts_err_set(err, TS_EINVAL,
		                  "s3://%s: s3.access-key and s3.secret-key must be "
		                  "set for an s3:// lake",
		                  u->bucket);
	if (o->endpoint && o->endpoint[0])
		snprintf(s->c.endpoint, sizeof(s->c.endpoint), "%s", o->endpoint);
	else
		snprintf(s->c.endpoint, sizeof(s->c.endpoint), "https://s3.%s.amazonaws.com",
		         region);
	if (!strstr(s->c.endpoint, "://"))
		return ts_err_set(err, TS_EINVAL,
		                  "s3.endpoint must start with http:// or https://");
	snprintf(s->c.sigv4, sizeof(s->c.sigv4), "aws:amz:%s:s3", region);
	snprintf(s->c.region, sizeof(s->c.region), "%s", region);
	snprintf(s->c.bucket, sizeof(s->c.bucket), "%s", u->bucket);
	snprintf(s->prefix, sizeof(s->prefix), "%s", u->prefix);
	snprintf(s->c.name, sizeof(s->c.name), "s3://%s%s%s", u->bucket, u->prefix[0] ? "/" : "",
	         u->prefix);
	s->c.path_style = o->path_style;
	s->c.timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 30000;
	s->c.budget_ms = o->budget_ms;
	s->c.max_retries = o->max_retries;
	s->part_size = o->part_size ? o->part_size : STORE_S3_DEF_PART;
	s->list_page = o->list_page > 0 && o->list_page < 1000 ? o->list_page : 1000;
	if (s->part_size < STORE_S3_MIN_PART)
		return ts_err_set(err, TS_EINVAL, "the S3 part size must be at least %u bytes",
		                  STORE_S3_MIN_PART);
	s->c.access_key = strdup(o->access_key);
	s->c.secret_key = strdup(o->secret_key);
	return s->c.access_key && s->c.secret_key ? 0 : ts_err_set(err, TS_ENOMEM, "out of memory");
}

int store_s3_open(const struct store_url *u, const struct store_opts *opts, void **ctx, char *desc,
                  size_t desc_size, struct ts_err *err)
{
	struct s3 *s;
	int rc;

	*ctx = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return ts_err_set(err, TS_ENOMEM, "out of memory");
	/* Thread-safe since libcurl 7.84; paired with the cleanup in s3_free. */
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = s3_config(s, u, opts, err);
	if (!rc) {
		s->c.curl = curl_easy_init();
		if (!s->c.curl)
			rc = ts_err_set(err, TS_ENOMEM, "cannot create a libcurl handle");
	}
	if (rc) {
		s3_free(s);
		return rc;
	}
	snprintf(desc, desc_size, "%s at %s", s->c.name, s->c.endpoint);
	*ctx = s;
	return 0;
}

const struct store_ops store_s3_ops = {
    "s3", s3_put, s3_get, s3_get_tail, s3_get_range, s3_del, s3_list, s3_free, NULL,
};
