/*
 * The S3 backend of the store (see store.h), for AWS S3 and S3-compatible
 * servers such as MinIO, over one reused libcurl easy handle per store.
 *
 * Requests are signed by libcurl's built-in AWS SigV4 (CURLOPT_AWS_SIGV4
 * "aws:amz:REGION:s3"). libcurl 7.88 signs the path and the query exactly as
 * written and every header we set, and takes the payload hash from our
 * x-amz-content-sha256 header; so we send keys URI-encoded the S3 way, query
 * parameters already sorted and encoded as name=value, and the SHA-256 of
 * every body (store_s3_sha256_hex).
 *
 * Objects larger than the part size go up as a multipart upload (initiate,
 * parts, complete; aborted on failure). Each request is retried on
 * connection failures, 5xx, 429 and SlowDown with store_retry's backoff.
 * Listing is ListObjectsV2 with continuation tokens. Responses are bounded:
 * an error body to STORE_S3_ERR_MAX, a listing page to STORE_S3_LIST_MAX, an
 * object to the caller's max_size.
 */
#ifndef STORE_STORE_S3_H
#define STORE_STORE_S3_H

#include <stddef.h>

#include "base/error.h"
#include "store/store.h"

#define STORE_S3_ERR_MAX   (64u << 10)
#define STORE_S3_LIST_MAX  (8u << 20)
#define STORE_S3_MIN_PART  (5u << 20)
#define STORE_S3_DEF_PART  (16u << 20)
#define STORE_S3_MAX_PARTS 10000

extern const struct store_ops store_s3_ops;

/* Checks opts (credentials present, region a plain name) and prepares the
 * handle; no network I/O. desc gets "s3://bucket/prefix at ENDPOINT". */
int store_s3_open(const struct store_url *u, const struct store_opts *opts, void **ctx, char *desc,
                  size_t desc_size, struct ts_err *err);

/* S3's URI encoding: unreserved bytes (A-Z a-z 0-9 - . _ ~) as they are,
 * '/' as it is when keep_slash, every other byte as %XX (upper case).
 * Returns 0 or TS_ETOOBIG. */
int store_s3_uri_encode(const char *s, int keep_slash, struct dbuf *out);

/* Lower-case hex SHA-256 of data[0..len) into out[65]. */
void store_s3_sha256_hex(const void *data, size_t len, char out[65]);

#endif
