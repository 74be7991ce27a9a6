#!/usr/bin/env bash
# The fault-injection suite in short (make test-faults is the long one):
# 30,000 plays through api -> Kafka -> ingest -> MinIO lake -> scheduler
# flows -> PostgreSQL while the chaos driver kills api, ingest and scheduler
# and restarts Kafka, PostgreSQL and MinIO, each once (six faults, seeded
# order); then every accepted play must be in the lake and the charts
# exactly once and the charts equal DuckDB's recomputation. It runs on
# services of its own (tests/faults/run.sh), so the shared ones are never
# restarted. About two minutes: the broker restart alone takes ~25 s.
set -euo pipefail
: "${TOPSONGS_BIN:?}" "${SCRATCH:?}" "${ROOT:?}"
exec "$ROOT/tests/faults/run.sh" --plays 30000 --hours 4 --wire-rate 1000 --seed 8 \
	--chaos-seconds 100 --max-faults 6 --gap 1.5,4 --drain-seconds 120 \
	--state "$SCRATCH/faults" --port-base $((40000 + ${TS_TEST_PORT_OFFSET:-0}))
