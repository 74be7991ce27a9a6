/*
 * The S3 backend of the store (see store.h), for AWS S3 and S3-compatible
 * servers such as MinIO. Keys live under the URL's prefix in the bucket.
 * A put is one PUT, or a multipart upload (initiate, parts, complete;
 * aborted on failure) when the object is larger than the part size, so an
 * object appears whole or not at all. A get is bounded by the caller's
 * max_size, a listing page (ListObjectsV2, continuation tokens) by
 * STORE_S3_LIST_MAX. Requests are signed, retried and explained by
 * store_s3_req.h. Opening does no network I/O.
 */
#ifndef STORE_STORE_S3_H
#define STORE_STORE_S3_H

#include <stddef.h>

#include "base/error.h"
#include "store/store.h"

#define STORE_S3_LIST_MAX  (8u << 20)
#define STORE_S3_MIN_PART  (5u << 20)
#define STORE_S3_DEF_PART  (16u << 20)
#define STORE_S3_MAX_PARTS 10000

extern const struct store_ops store_s3_ops;

/* Checks opts (credentials present, region a plain name, part size at least
 * 5 MiB) and prepares the handle. desc gets "s3://bucket/prefix at ENDPOINT". */
int store_s3_open(const struct store_url *u, const struct store_opts *opts, void **ctx, char *desc,
                  size_t desc_size, struct ts_err *err);

#endif
