/*
 * The lake probe of `topsongs check`: it opens the configured store
 * (lake.url: a local folder, created when missing, or s3://bucket/prefix with
 * the s3.* settings), then writes a small probe object, reads it back,
 * compares and deletes it: the same operations ingest needs. The object is
 * named ".topsongs-check-<pid>-<n>" in the lake's root; query engines skip
 * dot files. A failure's reason is the store's message (bucket missing,
 * access denied, unreachable after retries, permission denied, ...); S3
 * requests are bounded by the probe's timeout. Thread-safe.
 */
#ifndef CHECK_CHECK_LAKE_H
#define CHECK_CHECK_LAKE_H

#include <stdint.h>

#include "base/config.h"
#include "check/check_result.h"

int check_lake_probe(const struct ts_config *cfg, int64_t timeout_ms, struct check_result *out);

#endif
