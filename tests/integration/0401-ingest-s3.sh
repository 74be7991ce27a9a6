#!/usr/bin/env bash
# 0400 with the lake in S3 (a real MinIO): exactly once through SIGKILLs,
# staged objects copied into raw/ only after the commit.
INGEST_LAKE_KIND=s3 exec bash "$(dirname "$0")/0400-ingest-exactly-once.sh"
