#!/usr/bin/env bash
# topsongs simulate against the real api and Kafka: everything it sends is
# accepted and lands in the topic (once per post, keyed by user_id, each
# play's event_id once apart from the client retries), live flat out, in
# single posts and as a back-fill; plays for a region the api does not know
# are rejected one by one with the reason shown. With Kafka down the api
# answers 503 per item, which the simulator resends and then gives up (exit
# 3). Without a broker configured by the test runner the Kafka part is
# skipped with a message.
runner_brokers="${TOPSONGS_KAFKA_BROKERS:-}"
. "$(dirname "$0")/lib.sh"

totals() { grep 'generated=' "$1" | tail -n 1; }
field() { totals "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

# 1. Broker unreachable: per-item 503 from the real api, resent, then given up.
API_PORT="$(free_port)"
start_api "$API_PORT" --kafka-brokers 127.0.0.1:1 --kafka-produce-timeout-ms 500
set +e
"$TOPSONGS_BIN" simulate --target "http://127.0.0.1:$API_PORT" --rate 0 --count 40 \
	--batch 20 --retries 1 2>"$SCRATCH/down.txt"
rc=$?
set -e
[ "$rc" -eq 3 ] || fail "Kafka down: exit $rc, expected 3: $(cat "$SCRATCH/down.txt")"
[ "$(field rejected "$SCRATCH/down.txt")" = 0 ] || fail "valid plays were rejected: $(totals "$SCRATCH/down.txt")"
[ "$(field failed "$SCRATCH/down.txt")" = 40 ] || fail "Kafka down: $(totals "$SCRATCH/down.txt")"
[ "$(field retried "$SCRATCH/down.txt")" = 40 ] || fail "Kafka down: $(totals "$SCRATCH/down.txt")"
kill "$API_PID"
wait "$API_PID" 2>/dev/null || true

# 2. The rest needs the broker.
topic="$(new_topic)"
API_PORT="$(free_port)"
start_api "$API_PORT" --kafka-topic "$topic"
ready=0
for _ in $(seq 1 150); do
	curl -fs "http://127.0.0.1:$API_PORT/readyz" >/dev/null 2>&1 && { ready=1; break; }
	sleep 0.1
done
if [ "$ready" -eq 0 ]; then
	[ -n "$runner_brokers" ] && fail "Kafka at $TOPSONGS_KAFKA_BROKERS is configured but not ready"
	echo "skip: no Kafka at $TOPSONGS_KAFKA_BROKERS; the real-api delivery part is skipped"
	exit 0
fi
URL="http://127.0.0.1:$API_PORT"

"$TOPSONGS_BIN" simulate --target "$URL" --seed 11 --rate 0 --count 3000 --batch 200 \
	2>"$SCRATCH/a.txt" || fail "flat out: exit $?: $(cat "$SCRATCH/a.txt")"
"$TOPSONGS_BIN" simulate --target "$URL" --seed 12 --rate 0 --count 150 --batch 1 \
	2>"$SCRATCH/b.txt" || fail "single posts: exit $?: $(cat "$SCRATCH/b.txt")"
"$TOPSONGS_BIN" simulate --target "$URL" --seed 13 --rate 0.1 --backfill \
	2>"$SCRATCH/c.txt" || fail "back-fill: exit $?: $(cat "$SCRATCH/c.txt")"
for f in a b c; do
	[ "$(field accepted "$SCRATCH/$f.txt")" = "$(field generated "$SCRATCH/$f.txt")" ] ||
		fail "run $f: not all accepted: $(totals "$SCRATCH/$f.txt")"
done

set +e
"$TOPSONGS_BIN" simulate --target "$URL" --seed 14 --rate 0 --count 500 --regions "EU ZZ" \
	2>"$SCRATCH/d.txt"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "unknown region: exit $rc, expected 1: $(cat "$SCRATCH/d.txt")"
grep -q 'last error: item rejected (400): region' "$SCRATCH/d.txt" || fail "no reason: $(cat "$SCRATCH/d.txt")"

expected=$(($(field accepted "$SCRATCH/a.txt") + $(field accepted "$SCRATCH/b.txt") + \
	$(field accepted "$SCRATCH/c.txt") + $(field accepted "$SCRATCH/d.txt")))
got=0
for _ in $(seq 1 50); do
	consume "$topic" >"$SCRATCH/records"
	got=$(wc -l <"$SCRATCH/records")
	[ "$got" -ge "$expected" ] && break
	sleep 0.2
done
[ "$got" -eq "$expected" ] || fail "topic holds $got records, the api accepted $expected"
dups=$(($(field duplicates "$SCRATCH/a.txt") + $(field duplicates "$SCRATCH/b.txt") + \
	$(field duplicates "$SCRATCH/c.txt")))
python3 - "$SCRATCH/records" "$dups" <<'PY' || fail "records"
import json, sys
recs = [l.rstrip("\n").split("\t", 1) for l in open(sys.argv[1])]
ids = {}
for key, value in recs:
    e = json.loads(value)
    assert key == e["user_id"], (key, e)
    assert e["region"] != "ZZ", e
    ids[e["event_id"]] = ids.get(e["event_id"], 0) + 1
extra = sum(n - 1 for n in ids.values())
print(f"records={len(recs)} distinct={len(ids)} client-retries={extra}")
# Each client retry of runs a-c was accepted again: one more record per retry
# (run d's retries are counted by the topic too, hence >=).
assert extra >= int(sys.argv[2]), (extra, sys.argv[2])
PY
echo "ok: simulate against the real api"
