#!/usr/bin/env bash
# 0400 with PostgreSQL (a cluster of the test's own) stopped for 3 s under a
# running ingest: the same process restarts itself and files every record
# exactly once.
INGEST_SCENARIO=pg exec bash "$(dirname "$0")/0400-ingest-exactly-once.sh"
