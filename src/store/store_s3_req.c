/*
 * One signed, retried S3 request and the message for its failure; see
 * store_s3_req.h.
 */
#include "base/common.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "store/store_retry.h"
#include "store/store_s3_req.h"

#include <openssl/evp.h>
#include <strings.h>
#include <time.h>

/* ---- encoding, hashing ---- */

int store_s3_req_uri_encode(const char *s, int keep_slash, struct dbuf *out)
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

void store_s3_req_sha256_hex(const void *data, size_t len, char out[65])
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
	struct store_s3_conn *s;
	struct store_s3_req *req;
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

/* The value of header line data[0..len) when its name is `name` (with the
 * colon), trimmed, into out; 0 when it is another header or does not fit. */
static int header_value(const char *data, size_t len, const char *name, char *out, size_t size)
{
	size_t v = strlen(name);

	if (len <= v || strncasecmp(data, name, v))
		return 0;
	while (v < len && (data[v] == ' ' || data[v] == '\t'))
		v++;
	while (len > v && (data[len - 1] == '\r' || data[len - 1] == '\n' || data[len - 1] == ' '))
		len--;
	if (len - v >= size)
		return 0;
	snprintf(out, size, "%.*s", (int)(len - v), data + v);
	return 1;
}

/* Keeps the ETag, and refuses a 2xx body whose announced length is over the
 * cap before any of it arrives. */
static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
	struct write_ctx *w = arg;
	char num[32];
	long status = 0;

	header_value(data, size * n, "etag:", w->req->etag, sizeof(w->req->etag));
	/* "bytes FIRST-LAST/TOTAL", or "bytes * /TOTAL" (sic, no space) with a 416 */
	if (header_value(data, size * n, "content-range:", num, sizeof(num))) {
		const char *slash = strchr(num, '/');
		char *end = NULL;
		unsigned long long total = slash ? strtoull(slash + 1, &end, 10) : 0;

		if (!strncmp(num, "bytes ", 6) && slash && end != slash + 1 && !*end &&
		    total <= (unsigned long long)INT64_MAX)
			w->req->range_total = (int64_t)total;
	}
	if (w->req->resp && header_value(data, size * n, "content-length:", num, sizeof(num))) {
		curl_easy_getinfo(w->s->curl, CURLINFO_RESPONSE_CODE, &status);
		if (status / 100 == 2 && strtoull(num, NULL, 10) > w->req->resp->max) {
			w->req->too_big = 1;
			return 0; /* aborts the transfer */
		}
	}
	return size * n;
}

static int build_url(const struct store_s3_conn *s, const struct store_s3_req *req,
                     struct dbuf *url)
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
		rc = store_s3_req_uri_encode(req->key, 1, url);
	if (!rc && req->query)
		rc = dbuf_addf(url, "?%s", req->query);
	return rc;
}

static int set_headers(const struct store_s3_req *req, struct curl_slist **hdrs)
{
	char line[128], hash[65];
	struct curl_slist *h;

	store_s3_req_sha256_hex(req->body, req->body_len, hash);
	snprintf(line, sizeof(line), "x-amz-content-sha256: %s", hash);
	h = curl_slist_append(NULL, line);
	if (h && req->content_type) {
		snprintf(line, sizeof(line), "Content-Type: %s", req->content_type);
		if (!curl_slist_append(h, line)) {
			curl_slist_free_all(h);
			h = NULL;
		}
	}
	if (h && req->range) {
		snprintf(line, sizeof(line), "Range: %s", req->range);
		if (!curl_slist_append(h, line)) {
			curl_slist_free_all(h);
			h = NULL;
		}
	}
	*hdrs = h;
	return h ? 0 : TS_ENOMEM;
}

static void set_method(CURL *c, const struct store_s3_req *req, struct body_reader *r)
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

static void set_common(struct store_s3_conn *s, struct store_s3_req *req, const char *url,
                       struct curl_slist *hdrs, struct write_ctx *w)
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
	curl_easy_setopt(c, CURLOPT_HEADERDATA, w);
}

/* Runs one attempt; fills req's results. Returns 0 or TS_ENOMEM. */
static int attempt(struct store_s3_conn *s, struct store_s3_req *req)
{
	struct write_ctx w = {s, req};
	struct body_reader r = {NULL, 0};
	struct curl_slist *hdrs = NULL;
	struct dbuf url;
	int rc;

	dbuf_init(&url, STORE_S3_URL_MAX);
	rc = build_url(s, req, &url);
	if (!rc)
		rc = set_headers(req, &hdrs);
	if (rc)
		goto out;
	req->status = 0;
	req->too_big = 0;
	req->etag[0] = req->curl_msg[0] = '\0';
	req->range_total = -1;
	dbuf_reset(&req->errbody);
	if (req->resp)
		dbuf_reset(req->resp);
	set_common(s, req, dbuf_str(&url), hdrs, &w);
	set_method(s->curl, req, &r);
	req->cc = curl_easy_perform(s->curl);
	curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &req->status);
	store_s3_xml_error(dbuf_str(&req->errbody), req->errbody.len, &req->s3err);
	/* CompleteMultipartUpload may answer 200 and fail: the error is then in the body. */
	req->error_in_2xx = req->check_2xx_error && req->cc == CURLE_OK && req->status / 100 == 2 &&
	                    req->resp &&
	                    store_s3_xml_error(dbuf_str(req->resp), req->resp->len, &req->s3err);
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

static int attempt_ok(const struct store_s3_req *req)
{
	return req->cc == CURLE_OK && req->status / 100 == 2 && !req->error_in_2xx;
}

static int attempt_retryable(const struct store_s3_req *req)
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

static int fail_transport(struct store_s3_conn *s, const struct store_s3_req *req,
                          struct ts_err *err)
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

static int fail_auth(struct store_s3_conn *s, const struct store_s3_req *req, struct ts_err *err)
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

static int fail_http(struct store_s3_conn *s, const struct store_s3_req *req, struct ts_err *err)
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
	if (store_retry_retryable(0, req->status, c))
		return ts_err_set(err, TS_EUNAVAIL,
		                  "s3: %s is unavailable: HTTP %ld %s%s%s (%d attempts in %.1f s)",
		                  s->endpoint, req->status, c, c[0] ? ": " : "", req->s3err.message,
		                  req->attempts, (double)req->elapsed_ms / 1000.0);
	return ts_err_set(err, TS_EFAILED, "s3: %s %s: HTTP %ld %s%s%s at %s", req->method, s->name,
	                  req->status, c, c[0] ? ": " : "", req->s3err.message, s->endpoint);
}

static int fail(struct store_s3_conn *s, const struct store_s3_req *req, struct ts_err *err)
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

int store_s3_req_run(struct store_s3_conn *s, struct store_s3_req *req, struct ts_err *err)
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
