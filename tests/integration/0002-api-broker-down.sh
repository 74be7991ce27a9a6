#!/usr/bin/env bash
# Kafka stopped: the api answers 503 with Retry-After within a bounded time
# (never hangs, never says 202); after the broker restarts it recovers, and
# every play that got a 202 — before, during or after — is in the topic once.
# The broker is the script's own, so no other test sees it go.
. "$(dirname "$0")/lib.sh"
use_own_broker

topic="$(new_topic)"
API_PORT="$(free_port)"
restart_broker() { "$ROOT/scripts/kafka.sh" start "$TS_KAFKA_STATE" "$TS_KAFKA_PORT" >&2; }
start_api "$API_PORT" --kafka-topic "$topic" --kafka-produce-timeout-ms 2000
wait_ready "$API_PORT"

make_events 160 11 >"$SCRATCH/all.ndjson"
: >"$SCRATCH/accepted"
post_range() { # FIRST LAST -> posts each line, records accepted ids, prints codes
	sed -n "$1,$2p" "$SCRATCH/all.ndjson" | while IFS= read -r line; do
		printf '%s' "$line" >"$SCRATCH/one.json"
		code="$(post /play application/json "$SCRATCH/one.json")"
		# make_events writes "event_id" first, as json.dumps spells it
		[ "$code" = 202 ] && sed -E 's/^\{"event_id": "([^"]+)".*/\1/' <<<"$line" >>"$SCRATCH/accepted"
		echo "$code"
	done
}

post_range 1 50 | sort | uniq -c >"$SCRATCH/codes1"
grep -q ' 50 202' "$SCRATCH/codes1" || fail "before the outage: $(cat "$SCRATCH/codes1")"

"$ROOT/scripts/kafka.sh" stop "$TS_KAFKA_STATE"
start=$(date +%s%N)
post_range 51 53 >"$SCRATCH/codes2"
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
grep -qv 503 "$SCRATCH/codes2" && fail "broker down answered $(tr '\n' ' ' <"$SCRATCH/codes2"), expected 503"
# Three requests, each bounded by the 2 s produce timeout (plus slack).
[ "$elapsed_ms" -lt 12000 ] || fail "503s took ${elapsed_ms} ms for 3 requests"
curl -s -D "$SCRATCH/headers" -o /dev/null -XPOST -H 'Content-Type: application/json' \
	--data-binary "@$SCRATCH/one.json" "http://127.0.0.1:$API_PORT/play"
grep -qi '^retry-after: ' "$SCRATCH/headers" || fail "no Retry-After on 503"
ready=0
for _ in $(seq 1 100); do
	code="$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$API_PORT/readyz")"
	[ "$code" = 503 ] && { ready=1; break; }
	sleep 0.2
done
[ "$ready" = 1 ] || fail "/readyz never reported the broker outage"

restart_broker
wait_ready "$API_PORT"
# The first requests after a restart may still see the broker warming up.
for _ in $(seq 1 20); do
	printf '%s' "$(sed -n 54p "$SCRATCH/all.ndjson")" >"$SCRATCH/probe.json"
	[ "$(post /play application/json "$SCRATCH/probe.json")" = 202 ] && break
	sleep 1
done
post_range 55 160 | sort | uniq -c >"$SCRATCH/codes3"
grep -q ' 106 202' "$SCRATCH/codes3" || fail "after recovery: $(cat "$SCRATCH/codes3")"

consume_until "$topic" "$(wc -l <"$SCRATCH/accepted")"
python3 - "$SCRATCH/accepted" "$SCRATCH/records.tsv" <<'PY'
import collections, json, sys
accepted = [l.strip() for l in open(sys.argv[1]) if l.strip()]
seen = collections.Counter(json.loads(l.split("\t", 1)[1])["event_id"] for l in open(sys.argv[2]) if l.strip())
missing = [a for a in accepted if seen[a] == 0]
dups = [a for a in accepted if seen[a] > 1]
assert not missing, f"{len(missing)} accepted plays missing from Kafka"
assert not dups, f"{len(dups)} accepted plays duplicated"
print("ok:", len(accepted), "accepted plays all in Kafka once")
PY
