/*
 * One S3 request, signed, retried and explained: the HTTP layer under the
 * S3 store backend (store_s3.c). A struct store_s3_conn holds what every
 * request needs (endpoint, bucket, credentials, deadlines) and one libcurl
 * easy handle, reset between requests so its connection is reused; a struct
 * store_s3_req describes one request and receives its outcome.
 *
 * Signing is libcurl's built-in AWS SigV4 (CURLOPT_AWS_SIGV4
 * "aws:amz:REGION:s3"). libcurl 7.88 signs the path and the query exactly as
 * written and every header we set, and takes the payload hash from our
 * x-amz-content-sha256 header. So: keys are URI-encoded the S3 way, query
 * parameters are passed already sorted and encoded as name=value, and every
 * body's SHA-256 is computed here (OpenSSL's libcrypto). No "Expect:" header
 * is set, since an empty one would be signed but never sent.
 *
 * store_s3_req_run retries connection failures, timeouts, 5xx, 429 and
 * SlowDown (store_retry.h) and turns a final failure into one message that
 * names the bucket or endpoint and what to do, never a credential. A conn is
 * used by one thread at a time.
 */
#ifndef STORE_STORE_S3_REQ_H
#define STORE_STORE_S3_REQ_H

#include <curl/curl.h>
#include <stddef.h>
#include <stdint.h>

#include "base/dbuf.h"
#include "base/error.h"
#include "store/store.h"
#include "store/store_s3_xml.h"

#define STORE_S3_URL_MAX  8192
#define STORE_S3_ETAG_MAX 128
#define STORE_S3_ERR_MAX  (64u << 10)

struct store_s3_conn {
	CURL *curl;
	char endpoint[512]; /* "http://127.0.0.1:9000", no trailing '/' */
	char bucket[64];
	char name[STORE_KEY_MAX + 80]; /* "s3://bucket/prefix", for messages */
	char *access_key;
	char *secret_key;
	char sigv4[96]; /* "aws:amz:REGION:s3" */
	char region[40];
	int path_style;
	int64_t timeout_ms; /* one attempt */
	int64_t budget_ms;  /* no retry starts later than this; 0 = none */
	int max_retries;
};

struct store_s3_req {
	const char *method; /* GET PUT POST DELETE */
	const char *key;    /* full object key, or NULL for the bucket */
	const char *query;  /* sorted and encoded "a=1&b=2", or NULL */
	const void *body;   /* PUT/POST */
	size_t body_len;
	const char *content_type; /* NULL for none */
	const char *range;        /* a Range header's value ("bytes=-65536"), or NULL */
	struct dbuf *resp;        /* 2xx body, bounded by its max; NULL to drop */
	int check_2xx_error;      /* an <Error> in a 2xx body is a failure too */
	/* the outcome of the last attempt */
	long status;
	CURLcode cc;
	int too_big;      /* the 2xx body passed resp->max */
	int error_in_2xx; /* check_2xx_error found one (in s3err) */
	char etag[STORE_S3_ETAG_MAX];
	int64_t range_total; /* the object's size from a Content-Range answer; -1 without */
	struct dbuf errbody;
	struct store_s3_error s3err;
	char curl_msg[CURL_ERROR_SIZE];
	int attempts;
	int64_t elapsed_ms;
};

/*
 * Runs req with retries. Returns 0 on a 2xx answer; else TS_ENOTFOUND (no
 * such key), TS_EFAILED (no such bucket, access denied, other refusals),
 * TS_EUNAVAIL (unreachable or overloaded), TS_ETIMEDOUT, TS_ETOOBIG (the
 * body passed resp->max) or TS_ENOMEM, with err set.
 */
int store_s3_req_run(struct store_s3_conn *c, struct store_s3_req *req, struct ts_err *err);

/* S3's URI encoding: unreserved bytes (A-Z a-z 0-9 - . _ ~) as they are,
 * '/' as it is when keep_slash, every other byte as %XX (upper case).
 * Returns 0 or TS_ETOOBIG. */
int store_s3_req_uri_encode(const char *s, int keep_slash, struct dbuf *out);

/* Lower-case hex SHA-256 of data[0..len) into out[65]. */
void store_s3_req_sha256_hex(const void *data, size_t len, char out[65]);

#endif
