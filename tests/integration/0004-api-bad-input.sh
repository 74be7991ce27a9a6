#!/usr/bin/env bash
# Bad input gets the right status and a JSON error naming the field and the
# rule; nothing invalid reaches Kafka; the api keeps serving.
. "$(dirname "$0")/lib.sh"

topic="$(new_topic)"
API_PORT="$(free_port)"
start_api "$API_PORT" --kafka-topic "$topic" --api-max-body 65536 --api-max-batch 50
wait_ready "$API_PORT"
url="http://127.0.0.1:$API_PORT"
now="$(date -u +%Y-%m-%dT%H:%M:%S.000Z)"
good='{"event_id":"0b7e2f4c-1d2e-4f3a-8b9c-0d1e2f3a4b5c","user_id":"u1","song_id":"s1","region":"EU","ts":"'"$now"'"}'

# expect STATUS FIELD-OR-DASH CONTENT-TYPE BODY [PATH]
expect() {
	local want="$1" field="$2" ctype="$3" body="$4" path="${5:-/play}" code
	printf '%s' "$body" >"$SCRATCH/req"
	if [ "$ctype" = - ]; then
		code="$(curl -s -o "$SCRATCH/body" -w '%{http_code}' -XPOST --data-binary "@$SCRATCH/req" -H 'Content-Type:' "$url$path")"
	else
		code="$(post "$path" "$ctype" "$SCRATCH/req")"
	fi
	[ "$code" = "$want" ] || fail "expected $want, got $code for: ${body:0:120} -> $(cat "$SCRATCH/body")"
	python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$SCRATCH/body" ||
		fail "error body is not JSON: $(cat "$SCRATCH/body")"
	if [ "$field" != - ]; then
		python3 - "$SCRATCH/body" "$field" <<'PY' || fail "expected field $field in $(cat "$SCRATCH/body")"
import json, sys
b = json.load(open(sys.argv[1]))
assert b.get("field") == sys.argv[2] and b.get("rule"), b
PY
	fi
}
J=application/json
mk() { python3 -c 'import json,sys; d=json.loads(sys.argv[1]); exec(sys.argv[2]); print(json.dumps(d))' "$good" "$1"; }

expect 400 event_id $J "$(mk 'd["event_id"]="not-a-uuid"')"
expect 400 event_id $J "$(mk 'del d["event_id"]')"
expect 400 user_id $J "$(mk 'd["user_id"]=""')"
expect 400 user_id $J "$(mk 'd["user_id"]="x"*65')"
expect 400 user_id $J "$(mk 'd["user_id"]=42')"
expect 400 song_id $J "$(mk 'd["song_id"]=None')"
expect 400 region $J "$(mk 'd["region"]="XX"')"
expect 400 region $J "$(mk 'd["region"]="ALL"')"
expect 400 ts $J "$(mk 'd["ts"]="2026-11-25 13:00:00"')"
expect 400 ts $J "$(mk 'd["ts"]="2026-02-30T13:00:00Z"')"
expect 400 ts $J "$(mk 'd["ts"]="2026-11-25T13:00:00"')"
expect 400 ts $J "$(mk 'd["ts"]="2000-01-01T00:00:00Z"')"
expect 400 ts $J "$(mk 'd["ts"]="2999-01-01T00:00:00+01:00"')"
expect 400 country $J "$(mk 'd["country"]="XX"')"
expect 400 country $J "$(mk 'd["country"]="de"')"
expect 400 city $J "$(mk 'd["city"]="c"*129')"
expect 400 lat $J "$(mk 'd["lat"]=91; d["lon"]=0')"
expect 400 lon $J "$(mk 'd["lat"]=0; d["lon"]="0"')"
expect 400 lon $J "$(mk 'd["lat"]=0')"
expect 400 device $J "$(mk 'd["device"]="d"*33')"
expect 400 duration_ms $J "$(mk 'd["duration_ms"]=3600001')"
expect 400 duration_ms $J "$(mk 'd["duration_ms"]=1.5')"
expect 400 duration_ms $J "$(mk 'd["duration_ms"]=-1')"
expect 400 - $J "$(mk 'd["extra"]=1')"
expect 400 - $J '{"event_id":1,"event_id":2}'
expect 400 - $J '[1,2,3]'
expect 400 - $J '{"a":'
expect 400 - $J "$(printf '{"user_id":"\xff\xfe"}')"
expect 400 - $J '{"user_id":"a\u0000b"}'
expect 400 - $J "$(python3 -c 'print("["*30000 + "]"*30000)')"
expect 400 - $J '{"duration_ms":123456789012345678901234567890}'
expect 415 - text/plain "$good"
expect 415 - - "$good"
expect 413 - $J "$(python3 -c 'print("{\"x\":\"" + "a"*70000 + "\"}")')"
expect 413 - application/x-ndjson "$(for i in $(seq 1 51); do echo "$good"; done)" /plays
expect 400 - application/x-ndjson "" /plays
expect 400 - $J '{"not":"an array"}' /plays
expect 400 - application/x-ndjson "$(printf 'garbage\n{}\n')" /plays

code="$(curl -s -o /dev/null -w '%{http_code}' "$url/play")"
[ "$code" = 405 ] || fail "GET /play answered $code"
code="$(curl -s -o /dev/null -w '%{http_code}' -XPOST "$url/healthz")"
[ "$code" = 405 ] || fail "POST /healthz answered $code"
code="$(curl -s -o /dev/null -w '%{http_code}' "$url/../../etc/passwd")"
[ "$code" = 404 ] || [ "$code" = 400 ] || fail "path traversal answered $code"

# Only the one valid play reaches Kafka, and the api is still healthy.
expect 202 - $J "$good"
curl -fs "$url/healthz" >/dev/null || fail "api unhealthy after bad input"
sleep 1
consume "$topic" >"$SCRATCH/records.tsv" || true
n="$(grep -c . "$SCRATCH/records.tsv" || true)"
[ "$n" = 1 ] || fail "expected exactly 1 record in Kafka, found $n"
curl -s "$url/metrics" | grep -q 'topsongs_api_rejected_events_total{reason="invalid_field"} [1-9]' ||
	fail "rejects not counted in /metrics"
echo "ok: bad input refused, one valid play in Kafka"
