#!/usr/bin/env bash
# 0400 with 22 crashes: a SIGKILL at each step of the commit protocol and of
# compaction (failpoints), then at random moments; still exactly once. A
# compaction target of 12 KB (three of its files) splits hours into several
# files, so crashes also come between the merges of one hour.
INGEST_COMPACT_TARGET_KB=12 INGEST_SCENARIO=failpoints exec bash "$(dirname "$0")/0400-ingest-exactly-once.sh"
