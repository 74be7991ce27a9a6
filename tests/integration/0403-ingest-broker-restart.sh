#!/usr/bin/env bash
# 0400 with the Kafka broker stopped and restarted under a running ingest
# (a broker of the script's own: the shared one stays up).
INGEST_SCENARIO=broker exec bash "$(dirname "$0")/0400-ingest-exactly-once.sh"
