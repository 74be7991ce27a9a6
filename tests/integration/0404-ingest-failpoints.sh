#!/usr/bin/env bash
# 0400 with 22 crashes: a SIGKILL at each step of the commit protocol and of
# compaction (failpoints), then at random moments; still exactly once.
INGEST_SCENARIO=failpoints exec bash "$(dirname "$0")/0400-ingest-exactly-once.sh"
