#!/usr/bin/env bash
# 0400 with several ingest members in one consumer group: partitions move
# between members while one is killed with SIGKILL and another leaves;
# every record is still in the lake exactly once.
INGEST_SCENARIO=rebalance exec bash "$(dirname "$0")/0400-ingest-exactly-once.sh"
