#!/usr/bin/env bash
# 0700 with the lake in S3 (a real MinIO): the ledger reads the footers of
# the objects, and a raw object removed from the bucket is flagged.
FLOWS_LAKE_KIND=s3 exec bash "$(dirname "$0")/0700-ledger.sh"
