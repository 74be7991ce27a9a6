#!/usr/bin/env bash
# The whole path: the simulator back-fills three hours through the real api
# (client retries send some plays twice with the same event_id, in separate
# requests), ingest files them, enrich and aggregate run; the lake and the
# charts equal DuckDB's recomputation and every retry counts once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/flows_lib.sh"

flows_lake
"$TOPSONGS_BIN" catalog load --songs 500 --catalog-seed 4 >/dev/null || fail "catalog load"
API_PORT="$(free_port)"
start_api "$API_PORT" --kafka-topic "$topic"
wait_ready "$API_PORT"
"$TOPSONGS_BIN" simulate --target "http://127.0.0.1:$API_PORT" --from -3h --songs 500 \
	--catalog-seed 4 --rate 0.5 --retry-share 0.05 --seed 8 --batch 50 2>"$SCRATCH/sim.txt" ||
	fail "simulate: $(tail -3 "$SCRATCH/sim.txt")"
kill "$API_PID"
wait "$API_PID" 2>/dev/null || true
sent="$(consume "$topic" | wc -l)"
[ "$sent" -gt 1000 ] || fail "only $sent records reached Kafka"
ingest_until "$sent" --kafka-topic "$topic" --ingest-group "g-$topic" --ingest-dlq-topic "$topic-dlq" \
	--lake-url "$lake" --ingest-flush-ms 300
run_flow enrich >"$SCRATCH/flows.log" 2>&1 || fail "enrich: $(tail -3 "$SCRATCH/flows.log")"
run_flow aggregate >>"$SCRATCH/flows.log" 2>&1 || fail "aggregate: $(tail -3 "$SCRATCH/flows.log")"
check_flows "$lake"
# Every retry counted once: distinct event ids sent = plays charted.
distinct="$(consume "$topic" | python3 -c 'import json, sys; print(len({json.loads(l.split("\t", 1)[1])["event_id"] for l in sys.stdin}))')"
[ "$distinct" -lt "$sent" ] || fail "the simulator sent no retry"
[ "$(q "SELECT sum(plays) FROM plays_hourly WHERE region = 'ALL'")" = "$distinct" ] ||
	fail "plays_hourly counts $(q "SELECT sum(plays) FROM plays_hourly WHERE region = 'ALL'") plays for $distinct distinct events"
echo "ok: $sent records through the api, $((sent - distinct)) retries, $distinct plays charted"
