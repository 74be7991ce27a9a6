#!/usr/bin/env bash
# 0501 with the lake in S3 (a real MinIO): killed flows leave nothing
# uncommitted under enriched/ and the charts exact.
FLOWS_LAKE_KIND=s3 exec bash "$(dirname "$0")/0501-flows-crash.sh"
