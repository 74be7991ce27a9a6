#!/usr/bin/env bash
# 0404 with the lake in S3 (a real MinIO): a SIGKILL at each step of the
# commit protocol and of S3 compaction (merged, uploaded, recorded), then at
# random moments; still exactly once, and the bookkeeping lists exactly the
# objects under raw/. Compaction targets 12 KB files, so an hour becomes
# several objects and crashes come between their uploads too.
INGEST_COMPACT_TARGET_KB=12 INGEST_LAKE_KIND=s3 INGEST_SCENARIO=failpoints exec bash "$(dirname "$0")/0400-ingest-exactly-once.sh"
