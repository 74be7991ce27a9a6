/*
 * The S3 store backend; see store_s3.h. One request is described by a
 * struct s3_req; s3_request() runs it with retries on the store's easy
 * handle (reset between requests, so its connection is reused) and turns a
 * final failure into one clear message. The object operations and the
 * multipart upload sit on top.
 */
#include "base/common.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "store/store_retry.h"
#include "store/store_s3.h"
#include "store/store_s3_xml.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <strings.h>
#include <time.h>

#define URL_MAX  8192
#define ETAG_MAX 128

struct s3 {
	CURL *curl;
	char endpoint[512]; /* "http://127.0.0.1:9000", no trailing '/' */
	char bucket[64];
	char prefix[STORE_KEY_MAX];
	char name[STORE_KEY_MAX + 80]; /* "s3://bucket/prefix", for messages */
	char *access_key;
	char *secret_key;
	char sigv4[96];
	char region[40];
	int path_style;
	int64_t timeout_ms;
	int64_t budget_ms;
	int max_retries;
	size_t part_size;
	int list_page;
};

struct s3_req {
	const char *method; /* GET PUT POST DELETE */
	const char *key;    /* full object key, or NULL for the bucket */
	const char *query;  /* sorted and encoded "a=1&b=2", or NULL */
	const void *body;   /* PUT/POST */
	size_t body_len;
	const char *content_type; /* NULL for none */
	struct dbuf *resp;        /* 2xx body, bounded by its max; NULL to drop */
	/* results of the last attempt */
	long status;
	CURLcode cc;
	int too_big;
	char etag[ETAG_MAX];
	struct dbuf errbody;
	struct store_s3_error s3err;
	char curl_msg[CURL_ERROR_SIZE];
	int attempts;
	int64_t elapsed_ms;
};

/* ---- encoding, hashing ---- */

int store_s3_uri_encode(const char *s, int keep_slash, struct dbuf *out)
{
	static const char hex[] = "0123456789ABCDEF";
	int rc = 0;

	for (; !rc && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~' || (c == '/' && keep_slash))
			rc = dbuf_addc(out, (char)c);
		else
			rc = dbuf_addf(out, "%%%c%c", hex[c >> 4], hex[c & 15]);
	}
	return rc;
}

void store_s3_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (!EVP_Digest(data ? data : "", len, md, &n, EVP_sha256(), NULL) || n != 32)
		BUG("SHA-256 failed");
	for (unsigned int i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* ---- one HTTP exchange ---- */

struct body_reader {
	const char *p;
	size_t left;
};

static size_t on_read(char *buf, size_t size, size_t n, void *arg)
{
	struct body_reader *r = arg;
	size_t len = size * n < r->left ? size * n : r->left;

	memcpy(buf, r->p, len);
	r->p += len;
	r->left -= len;
	return len;
}

struct write_ctx {
	struct s3 *s;
	struct s3_req *req;
};

static size_t on_write(char *data, size_t size, size_t n, void *arg)
{
	struct write_ctx *w = arg;
	long status = 0;

	curl_easy_getinfo(w->s->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status / 100 == 2 && w->req->resp) {
		if (dbuf_add(w->req->resp, data, size * n)) {
			w->req->too_big = 1;
			return 0; /* aborts the transfer: nothing past the cap is kept */
		}
		return size * n;
	}
	if (w->req->errbody.len + size * n <= w->req->errbody.max)
		dbuf_add(&w->req->errbody, data, size * n);
	return size * n;
}

static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
	struct s3_req *req = arg;
	size_t len = size * n, v = 5;

	if (len > 5 && !strncasecmp(data, "etag:", 5)) {
		while (v < len && (data[v] == ' ' || data[v] == '\t'))
			v++;
		while (len > v &&
		       (data[len - 1] == '\r' || data[len - 1] == '\n' || data[len - 1] == ' '))
			len--;
		if (len - v < sizeof(req->etag))
			snprintf(req->etag, sizeof(req->etag), "%.*s", (int)(len - v), data + v);
	}
	return size * n;
}

static int build_url(const struct s3 *s, const struct s3_req *req, struct dbuf *url)
{
	const char *host = strstr(s->endpoint, "://") + 3;
	int rc;

	if (s->path_style)
		rc = dbuf_addf(url, "%s/%s", s->endpoint, s->bucket);
	else
		rc = dbuf_addf(url, "%.*s%s.%s", (int)(host - s->endpoint), s->endpoint, s->bucket,
		               host);
	if (!rc && (req->key || !s->path_style))
		rc = dbuf_addc(url, '/');
	if (!rc && req->key)
		rc = store_s3_uri_encode(req->key, 1, url);
	if (!rc && req->query)
		rc = dbuf_addf(url, "?%s", req->query);
	return rc;
}

static int set_headers(const struct s3_req *req, struct curl_slist **hdrs)
{
	char line[128], hash[65];
	struct curl_slist *h;

	store_s3_sha256_hex(req->body, req->body_len, hash);
	snprintf(line, sizeof(line), "x-amz-content-sha256: %s", hash);
	h = curl_slist_append(NULL, line);
	if (h && req->content_type) {
		snprintf(line, sizeof(line), "Content-Type: %s", req->content_type);
		if (!curl_slist_append(h, line)) {
			curl_slist_free_all(h);
			h = NULL;
		}
	}
	*hdrs = h;
	return h ? 0 : TS_ENOMEM;
}

static void set_method(CURL *c, const struct s3_req *req, struct body_reader *r)
{
	if (!strcmp(req->method, "GET")) {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
		return;
	}
	if (!strcmp(req->method, "DELETE")) {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "DELETE");
		return;
	}
	/* PUT and POST send their body as an upload with a Content-Length. */
	r->p = req->body;
	r->left = req->body_len;
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
	curl_easy_setopt(c, CURLOPT_READDATA, r);
	curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)req->body_len);
	if (strcmp(req->method, "PUT"))
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
}

static void set_common(struct s3 *s, struct s3_req *req, const char *url, struct curl_slist *hdrs,
                       struct write_ctx *w)
{
	CURL *c = s->curl;

	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_AWS_SIGV4, s->sigv4);
	curl_easy_setopt(c, CURLOPT_USERNAME, s->access_key);
	curl_easy_setopt(c, CURLOPT_PASSWORD, s->secret_key);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)s->timeout_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
	                 (long)(s->timeout_ms < 10000 ? s->timeout_ms : 10000));
	curl_easy_setopt(c, CURLOPT_EXPECT_100_TIMEOUT_MS, 200L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, req->curl_msg);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, w);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, req);
}

/* Runs one attempt; fills req's results. Returns 0 or TS_ENOMEM. */
static int attempt(struct s3 *s, struct s3_req *req)
{
	struct write_ctx w = {s, req};
	struct body_reader r = {NULL, 0};
	struct curl_slist *hdrs = NULL;
	struct dbuf url;
	int rc;

	dbuf_init(&url, URL_MAX);
	rc = build_url(s, req, &url);
	if (!rc)
		rc = set_headers(req, &hdrs);
	if (rc)
		goto out;
	req->status = 0;
	req->too_big = 0;
	req->etag[0] = req->curl_msg[0] = '\0';
	dbuf_reset(&req->errbody);
	if (req->resp)
		dbuf_reset(req->resp);
	set_common(s, req, dbuf_str(&url), hdrs, &w);
	set_method(s->curl, req, &r);
	req->cc = curl_easy_perform(s->curl);
	curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &req->status);
	store_s3_xml_error(req->errbody.buf ? req->errbody.buf : "", req->errbody.len, &req->s3err);
out:
	curl_slist_free_all(hdrs);
	dbuf_release(&url);
	return rc;
}

static int transport_failed(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
		return 1;
	default:
		return 0;
	}
}

static int attempt_ok(const struct s3_req *req)
{
	return req->cc == CURLE_OK && req->status / 100 == 2;
}

static int attempt_retryable(const struct s3_req *req)
{
	if (req->too_big)
		return 0;
	if (req->cc != CURLE_OK)
		return store_retry_retryable(transport_failed(req->cc), 0, NULL);
	return store_retry_retryable(0, req->status, req->s3err.code);
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts))
		;
}

/* Replaces every occurrence of secret in s (size bytes) with "<redacted>";
 * secrets shorter than 8 bytes would hit ordinary words and are not real keys. */
static void scrub(char *s, size_t size, const char *secret)
{
	size_t n = secret ? strlen(secret) : 0;
	char *p;

	while (n >= 8 && (p = strstr(s, secret))) {
		char rest[TS_ERR_MSG_MAX];

		snprintf(rest, sizeof(rest), "%s", p + n);
		snprintf(p, size - (size_t)(p - s), "<redacted>%s", rest);
	}
}

static int fail_transport(struct s3 *s, const struct s3_req *req, struct ts_err *err)
{
	const char *why = req->curl_msg[0] ? req->curl_msg : curl_easy_strerror(req->cc);
	char tries[64];

	snprintf(tries, sizeof(tries), "%d attempt%s in %.1f s", req->attempts,
	         req->attempts == 1 ? "" : "s", (double)req->elapsed_ms / 1000.0);
	if (req->cc == CURLE_OPERATION_TIMEDOUT)
		return ts_err_set(err, TS_ETIMEDOUT, "s3: no answer from %s within %lld ms (%s)",
		                  s->endpoint, (long long)s->timeout_ms, tries);
	if (req->cc == CURLE_COULDNT_CONNECT)
		return ts_err_set(err, TS_EUNAVAIL, "s3: cannot connect to %s (%s): %s",
		                  s->endpoint, tries, why);
	if (req->cc == CURLE_COULDNT_RESOLVE_HOST)
		return ts_err_set(err, TS_EUNAVAIL, "s3: cannot resolve the host of %s: %s",
		                  s->endpoint, why);
	return ts_err_set(err, TS_EUNAVAIL, "s3: %s %s failed (%s): %s", req->method, s->endpoint,
	                  tries, why);
}

static int fail_auth(struct s3 *s, const struct s3_req *req, struct ts_err *err)
{
	const char *c = req->s3err.code;

	if (!strcmp(c, "SignatureDoesNotMatch") || !strcmp(c, "InvalidAccessKeyId"))
		return ts_err_set(err, TS_EFAILED,
		                  "s3: access denied: the access key or secret key is wrong (%s) "
		                  "at %s",
		                  c, s->endpoint);
	if (!strcmp(c, "RequestTimeTooSkewed"))
		return ts_err_set(err, TS_EFAILED,
		                  "s3: this machine's clock is too far from the server's "
		                  "(RequestTimeTooSkewed) at %s",
		                  s->endpoint);
	return ts_err_set(err, TS_EFAILED,
	                  "%s: access denied (%s): the credentials lack permission for this "
	                  "bucket or key at %s",
	                  s->name, c[0] ? c : "HTTP 403", s->endpoint);
}

static int fail_http(struct s3 *s, const struct s3_req *req, struct ts_err *err)
{
	const char *c = req->s3err.code;

	if (!strcmp(c, "NoSuchBucket"))
		return ts_err_set(err, TS_EFAILED,
		                  "s3://%s: bucket does not exist (NoSuchBucket) at %s", s->bucket,
		                  s->endpoint);
	if (req->status == 403 || !strcmp(c, "SignatureDoesNotMatch") ||
	    !strcmp(c, "InvalidAccessKeyId"))
		return fail_auth(s, req, err);
	if (!strcmp(c, "NoSuchKey") || (req->status == 404 && !c[0]))
		return ts_err_set(err, TS_ENOTFOUND, "s3://%s/%s: no such object", s->bucket,
		                  req->key ? req->key : "");
	if (req->status == 301 || !strcmp(c, "AuthorizationHeaderMalformed"))
		return ts_err_set(err, TS_EFAILED,
		                  "s3://%s: the bucket is in another region than s3.region %s (%s) "
		                  "at %s",
		                  s->bucket, s->region, c[0] ? c : "HTTP 301", s->endpoint);
	if (req->status >= 500 || req->status == 429 || store_retry_retryable(0, 0, c))
		return ts_err_set(err, TS_EUNAVAIL,
		                  "s3: %s is unavailable: HTTP %ld %s%s%s (%d attempts in %.1f s)",
		                  s->endpoint, req->status, c, c[0] ? ": " : "", req->s3err.message,
		                  req->attempts, (double)req->elapsed_ms / 1000.0);
	return ts_err_set(err, TS_EFAILED, "s3: %s %s: HTTP %ld %s%s%s at %s", req->method, s->name,
	                  req->status, c, c[0] ? ": " : "", req->s3err.message, s->endpoint);
}

static int fail(struct s3 *s, const struct s3_req *req, struct ts_err *err)
{
	int rc;

	if (req->too_big)
		return ts_err_set(err, TS_ETOOBIG, "s3://%s/%s is larger than %zu bytes", s->bucket,
		                  req->key ? req->key : "", req->resp ? req->resp->max : 0);
	if (req->cc != CURLE_OK)
		rc = fail_transport(s, req, err);
	else
		rc = fail_http(s, req, err);
	if (err) {
		scrub(err->msg, sizeof(err->msg), s->secret_key);
		scrub(err->msg, sizeof(err->msg), s->access_key);
	}
	return rc;
}

/* Runs req with retries; 0 on a 2xx answer, else a TS_E* code with err set. */
static int s3_request(struct s3 *s, struct s3_req *req, struct ts_err *err)
{
	struct store_retry retry;
	int64_t t0 = time_mono_us(), delay;
	int rc = 0;

	store_retry_init(&retry, s->max_retries, s->budget_ms, 0);
	dbuf_init(&req->errbody, STORE_S3_ERR_MAX);
	for (req->attempts = 1;; req->attempts++) {
		rc = attempt(s, req);
		req->elapsed_ms = (time_mono_us() - t0) / 1000;
		if (rc || attempt_ok(req) || !attempt_retryable(req))
			break;
		delay = store_retry_delay_ms(&retry, req->attempts);
		if (!store_retry_again(&retry, req->attempts, req->elapsed_ms, delay))
			break;
		log_debug("s3 request failed; retrying",
		          "method=%s status=%ld curl=%d code=%s attempt=%d delay_ms=%lld",
		          req->method, req->status, (int)req->cc, req->s3err.code, req->attempts,
		          (long long)delay);
		sleep_ms(delay);
	}
	if (rc)
		rc = ts_err_set(err, rc, "out of memory");
	else if (!attempt_ok(req))
		rc = fail(s, req, err);
	dbuf_release(&req->errbody);
	return rc;
}

/* ---- object operations ---- */

static void full_key(const struct s3 *s, const char *key, char *out, size_t size)
{
	snprintf(out, size, "%s%s%s", s->prefix, s->prefix[0] ? "/" : "", key);
}

static int s3_put_one(struct s3 *s, const char *key, const void *data, size_t len,
                      struct ts_err *err)
{
	struct s3_req req = {.method = "PUT", .key = key, .body = data, .body_len = len};

	req.content_type = "application/octet-stream";
	return s3_request(s, &req, err);
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
		                  s->name, key, STORE_KEY_MAX);
	if (len > s->part_size)
		return s3_put_multipart(s, full, data, len, err);
	return s3_put_one(s, full, data, len, err);
}

static int s3_get(void *ctx, const char *key, size_t max_size, struct dbuf *out, struct ts_err *err)
{
	struct s3 *s = ctx;
	char full[STORE_KEY_MAX * 2 + 2];
	struct s3_req req = {.method = "GET", .key = full};
	size_t saved = out->max;
	int rc;

	full_key(s, key, full, sizeof(full));
	/* The tighter of the two caps bounds what the download may allocate. */
	if (max_size < out->max)
		out->max = max_size;
	req.resp = out;
	rc = s3_request(s, &req, err);
	out->max = saved;
	return rc;
}

static int s3_del(void *ctx, const char *key, struct ts_err *err)
{
	struct s3 *s = ctx;
	char full[STORE_KEY_MAX * 2 + 2];
	struct s3_req req = {.method = "DELETE", .key = full};
	int rc;

	full_key(s, key, full, sizeof(full));
	rc = s3_request(s, &req, err);
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
	return rc ? rc : store_s3_uri_encode(id, 0, q);
}

static int mp_initiate(struct s3 *s, const char *key, char *id, size_t size, struct ts_err *err)
{
	struct dbuf resp;
	struct s3_req req = {.method = "POST", .key = key, .query = "uploads="};
	int rc;

	dbuf_init(&resp, STORE_S3_ERR_MAX);
	req.resp = &resp;
	rc = s3_request(s, &req, err);
	if (!rc && store_s3_xml_text(resp.buf ? resp.buf : "", resp.len, "UploadId", id, size))
		rc = ts_err_set(err, TS_ECORRUPT, "s3: %s gave no usable UploadId for %s",
		                s->endpoint, key);
	dbuf_release(&resp);
	return rc;
}

static int mp_part(struct s3 *s, const char *key, const char *id, int part, const char *data,
                   size_t len, char *etag, struct ts_err *err)
{
	struct dbuf q;
	struct s3_req req = {.method = "PUT", .key = key, .body = data, .body_len = len};
	int rc;

	dbuf_init(&q, URL_MAX);
	rc = upload_query(id, part, &q);
	req.query = dbuf_str(&q);
	if (!rc)
		rc = s3_request(s, &req, err);
	else
		rc = ts_err_set(err, rc, "upload id too long");
	if (!rc && !req.etag[0])
		rc = ts_err_set(err, TS_ECORRUPT, "s3: %s sent no ETag for part %d of %s",
		                s->endpoint, part, key);
	if (!rc)
		snprintf(etag, ETAG_MAX, "%s", req.etag);
	dbuf_release(&q);
	return rc;
}

static int mp_complete_body(const char (*etags)[ETAG_MAX], int n, struct dbuf *b)
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

static int mp_complete(struct s3 *s, const char *key, const char *id, const char (*etags)[ETAG_MAX],
                       int n, struct ts_err *err)
{
	struct dbuf q, body, resp;
	struct s3_req req = {.method = "POST", .key = key, .content_type = "application/xml"};
	int rc;

	dbuf_init(&q, URL_MAX);
	dbuf_init(&body, (size_t)n * (ETAG_MAX + 64) + 128);
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
	rc = s3_request(s, &req, err);
	/* S3 may answer 200 and still fail: the error is then in the body. */
	if (!rc && store_s3_xml_error(resp.buf ? resp.buf : "", resp.len, &req.s3err))
		rc = ts_err_set(err, TS_EFAILED, "s3: completing the upload of %s failed: %s: %s",
		                key, req.s3err.code, req.s3err.message);
out:
	dbuf_release(&resp);
	dbuf_release(&body);
	dbuf_release(&q);
	return rc;
}

static void mp_abort(struct s3 *s, const char *key, const char *id)
{
	struct dbuf q;
	struct s3_req req = {.method = "DELETE", .key = key};

	dbuf_init(&q, URL_MAX);
	if (!upload_query(id, 0, &q)) {
		req.query = dbuf_str(&q);
		if (s3_request(s, &req, NULL))
			log_warn("s3: could not abort a multipart upload", "key=%s", key);
	}
	dbuf_release(&q);
}

static int s3_put_multipart(struct s3 *s, const char *key, const void *data, size_t len,
                            struct ts_err *err)
{
	size_t nparts = (len + s->part_size - 1) / s->part_size;
	char(*etags)[ETAG_MAX] = NULL;
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
		rc = mp_complete(s, key, id, (const char(*)[ETAG_MAX])etags, (int)nparts, err);
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
			rc = store_s3_uri_encode(token, 0, q);
		if (!rc)
			rc = dbuf_addc(q, '&');
	}
	if (!rc)
		rc = dbuf_addf(q, "list-type=2&max-keys=%d&prefix=", page_keys);
	return rc ? rc : store_s3_uri_encode(prefix, 0, q);
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
	dbuf_init(&q, URL_MAX);
	dbuf_init(&resp, STORE_S3_LIST_MAX);
	page.token[0] = '\0';
	do {
		struct s3_req req = {.method = "GET", .resp = &resp};

		if (list_query(page.token, s->list_page, full, &q)) {
			rc = ts_err_set(err, TS_ETOOBIG, "s3: listing query too long");
			break;
		}
		req.query = dbuf_str(&q);
		rc = s3_request(s, &req, err);
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
	if (s->curl)
		curl_easy_cleanup(s->curl);
	curl_global_cleanup();
	free(s->access_key);
	free(s->secret_key);
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
		snprintf(s->endpoint, sizeof(s->endpoint), "%s", o->endpoint);
	else
		snprintf(s->endpoint, sizeof(s->endpoint), "https://s3.%s.amazonaws.com", region);
	if (!strstr(s->endpoint, "://"))
		return ts_err_set(err, TS_EINVAL,
		                  "s3.endpoint must start with http:// or https://");
	snprintf(s->sigv4, sizeof(s->sigv4), "aws:amz:%s:s3", region);
	snprintf(s->region, sizeof(s->region), "%s", region);
	snprintf(s->bucket, sizeof(s->bucket), "%s", u->bucket);
	snprintf(s->prefix, sizeof(s->prefix), "%s", u->prefix);
	snprintf(s->name, sizeof(s->name), "s3://%s%s%s", u->bucket, u->prefix[0] ? "/" : "",
	         u->prefix);
	s->path_style = o->path_style;
	s->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 30000;
	s->budget_ms = o->budget_ms;
	s->max_retries = o->max_retries;
	s->part_size = o->part_size ? o->part_size : STORE_S3_DEF_PART;
	s->list_page = o->list_page > 0 && o->list_page < 1000 ? o->list_page : 1000;
	if (s->part_size < STORE_S3_MIN_PART)
		return ts_err_set(err, TS_EINVAL, "the S3 part size must be at least %u bytes",
		                  STORE_S3_MIN_PART);
	s->access_key = strdup(o->access_key);
	s->secret_key = strdup(o->secret_key);
	return s->access_key && s->secret_key ? 0 : ts_err_set(err, TS_ENOMEM, "out of memory");
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
		s->curl = curl_easy_init();
		if (!s->curl)
			rc = ts_err_set(err, TS_ENOMEM, "cannot create a libcurl handle");
	}
	if (rc) {
		s3_free(s);
		return rc;
	}
	snprintf(desc, desc_size, "%s at %s", s->name, s->endpoint);
	*ctx = s;
	return 0;
}

const struct store_ops store_s3_ops = {
    "s3", s3_put, s3_get, s3_del, s3_list, s3_free,
};
