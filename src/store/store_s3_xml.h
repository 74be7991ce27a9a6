/*
 * The few S3 XML replies we read, parsed minimally but safely: an <Error>
 * (Code, Message), a ListObjectsV2 page (Contents: Key, Size, LastModified;
 * IsTruncated, NextContinuationToken) and InitiateMultipartUpload's UploadId.
 * S3 writes these as flat, attribute-free elements, so a bounded search for
 * "<Tag>" ... "</Tag>" inside the reply is enough; no XML library needed.
 * Every read stays within [xml, xml + len); text is entity-decoded (the five
 * named entities and &#N; / &#xN;) into caller buffers with their size
 * checked. Malformed input is TS_ECORRUPT, never a crash. Pure functions.
 */
#ifndef STORE_STORE_S3_XML_H
#define STORE_STORE_S3_XML_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

/*
 * Finds the next <tag>...</tag> at or after *pos; sets [*start, *stop) to
 * its content and *pos past its end tag. Returns 1 found, 0 absent,
 * TS_ECORRUPT for a start tag without its end tag.
 */
int store_s3_xml_next(const char *xml, size_t len, const char *tag, size_t *pos, size_t *start,
                      size_t *stop);

/*
 * The decoded text of the first <tag> in xml[0..len) into out (size bytes,
 * NUL-terminated). Returns 0, TS_ENOTFOUND, TS_ETOOBIG (does not fit) or
 * TS_ECORRUPT (bad entity, unterminated element).
 */
int store_s3_xml_text(const char *xml, size_t len, const char *tag, char *out, size_t size);

struct store_s3_error {
	char code[64];     /* "NoSuchBucket"; "" when the body is no S3 error */
	char message[256]; /* the server's words, truncated */
};

/* Fills out from an <Error> body; returns 1 when one was found, else 0. */
int store_s3_xml_error(const char *xml, size_t len, struct store_s3_error *out);

#define STORE_S3_TOKEN_MAX 2048

struct store_s3_list_page {
	int truncated;
	char token[STORE_S3_TOKEN_MAX]; /* NextContinuationToken when truncated */
};

/* Called per <Contents>; key is the full object key, decoded. Non-zero stops. */
typedef int (*store_s3_xml_entry_fn)(const char *key, uint64_t size, int64_t mtime_us, void *arg);

/* Parses one ListObjectsV2 page. Returns 0, what fn returned, or
 * TS_ECORRUPT with err set. */
int store_s3_xml_list(const char *xml, size_t len, store_s3_xml_entry_fn fn, void *arg,
                      struct store_s3_list_page *page, struct ts_err *err);

#endif
