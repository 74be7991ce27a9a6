#!/usr/bin/env bash
# SIGTERM while batches are in flight: the api stops accepting, answers every
# request it took, flushes the producer and exits 0. Every 202 is in Kafka.
. "$(dirname "$0")/lib.sh"

topic="$(new_topic)"
API_PORT="$(free_port)"
start_api "$API_PORT" --kafka-topic "$topic" --kafka-linger-ms 50
wait_ready "$API_PORT"

make_events 8000 23 >"$SCRATCH/all.ndjson"
split -l 500 -d "$SCRATCH/all.ndjson" "$SCRATCH/batch."
i=0
for f in "$SCRATCH"/batch.*; do
	curl -s -o "$f.out" -w '%{http_code}' -XPOST -H 'Content-Type: application/x-ndjson' \
		--data-binary "@$f" "http://127.0.0.1:$API_PORT/plays" >"$f.code" &
	i=$((i + 1))
done
sleep 0.05
kill -TERM "$API_PID"
wait_status=0
wait "$API_PID" || wait_status=$?
wait
[ "$wait_status" = 0 ] || fail "api exited $wait_status after SIGTERM"
grep -q '"stopped"\|stopped' "$SCRATCH/api.log" || fail "no clean stop in the log"

# Requests either completed (202) or were refused before being accepted
# (connection refused: code 000). None may be lost after a 202.
: >"$SCRATCH/accepted"
for f in "$SCRATCH"/batch.??; do
	code="$(cat "$f.code")"
	case "$code" in
	202) python3 -c 'import json,sys; [print(json.loads(l)["event_id"]) for l in open(sys.argv[1])]' "$f" >>"$SCRATCH/accepted" ;;
	000 | 503) ;;
	*) fail "batch $f answered $code: $(cat "$f.out")" ;;
	esac
done
[ -s "$SCRATCH/accepted" ] || fail "no batch was accepted before SIGTERM; the test proves nothing"
consume "$topic" >"$SCRATCH/records.tsv" || true
python3 - "$SCRATCH/accepted" "$SCRATCH/records.tsv" <<'PY'
import json, sys
accepted = {l.strip() for l in open(sys.argv[1]) if l.strip()}
seen = {json.loads(l.split("\t", 1)[1])["event_id"] for l in open(sys.argv[2]) if l.strip()}
missing = accepted - seen
assert not missing, f"{len(missing)} of {len(accepted)} accepted plays missing after SIGTERM"
print("ok:", len(accepted), "accepted plays all in Kafka after a SIGTERM drain")
PY
