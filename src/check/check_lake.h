/*
 * The lake probe of `topsongs check`. For a local folder (lake.url not
 * starting with s3://) it creates the folder when missing, then writes a
 * small probe file, fsyncs it, reads it back, compares and deletes it: the
 * same operations ingest needs. The file is named
 * ".topsongs-check-<pid>-<n>" in the lake's root; query engines skip dot
 * files. s3:// lakes are reported as failed ("S3 lake not supported yet")
 * until the S3 store exists. Thread-safe.
 */
#ifndef CHECK_CHECK_LAKE_H
#define CHECK_CHECK_LAKE_H

#include <stdint.h>

#include "base/config.h"
#include "check/check_result.h"

int check_lake_probe(const struct ts_config *cfg, int64_t timeout_ms, struct check_result *out);

#endif
