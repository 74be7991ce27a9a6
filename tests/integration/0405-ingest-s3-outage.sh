#!/usr/bin/env bash
# 0400 with the lake in MinIO, and MinIO stopped and restarted mid-stream.
# exclusive: stops the shared MinIO (scripts/test.sh runs it alone).
INGEST_LAKE_KIND=s3 INGEST_SCENARIO=minio exec bash "$(dirname "$0")/0400-ingest-exactly-once.sh"
