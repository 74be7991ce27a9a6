#!/usr/bin/env bash
# 0400 with the Kafka broker stopped and restarted under a running ingest.
# exclusive: stops the shared Kafka broker (scripts/test.sh runs it alone).
INGEST_SCENARIO=broker exec bash "$(dirname "$0")/0400-ingest-exactly-once.sh"
