#!/usr/bin/env bash
# 0400 with the lake in MinIO, and MinIO stopped and restarted mid-stream:
# a MinIO of the script's own (use_minio starts one when
# TOPSONGS_S3_ENDPOINT is empty), so the shared one stays up.
TOPSONGS_S3_ENDPOINT= INGEST_LAKE_KIND=s3 INGEST_SCENARIO=minio exec bash "$(dirname "$0")/0400-ingest-exactly-once.sh"
