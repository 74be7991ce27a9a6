#!/usr/bin/env bash
# 0500 with the lake in S3 (a real MinIO): enriched files staged, then
# copied into enriched/ only after their commit; the charts exact.
FLOWS_LAKE_KIND=s3 exec bash "$(dirname "$0")/0500-flows-exact.sh"
