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
# Two keep-alive clients keep posting single plays on their connections
# through the SIGTERM (regression: requests on open connections after the
# drain began used to reach a freed producer). They stop on their own.
python3 - "$API_PORT" "$SCRATCH/keepalive" <<'PY' &
import http.client, json, sys, threading, time, uuid, datetime
port, out = int(sys.argv[1]), sys.argv[2]
def run(k):
    accepted, codes = [], {}
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    end = time.time() + 6
    while time.time() < end:
        ev = {"event_id": str(uuid.uuid4()), "user_id": "k%d" % k, "song_id": "s1", "region": "EU",
              "ts": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")}
        try:
            c.request("POST", "/play", json.dumps(ev), {"Content-Type": "application/json"})
            r = c.getresponse(); r.read()
        except Exception:
            break
        codes[r.status] = codes.get(r.status, 0) + 1
        if sum(codes.values()) == 20:
            open("%s.ready.%d" % (out, k), "w").close()
        if r.status == 202:
            accepted.append(ev["event_id"])
        if r.getheader("Connection", "").lower() == "close":
            break
    with open("%s.%d" % (out, k), "w") as f:
        f.write("\n".join(accepted) + "\n")
    print("keep-alive client", k, codes, file=sys.stderr)
ts = [threading.Thread(target=run, args=(k,)) for k in range(2)]
[t.start() for t in ts]
[t.join() for t in ts]
PY
ka_pid=$!
for _ in $(seq 1 100); do
	[ -e "$SCRATCH/keepalive.ready.0" ] && [ -e "$SCRATCH/keepalive.ready.1" ] && break
	sleep 0.05
done
kill -TERM "$API_PID"
wait_status=0
wait "$API_PID" || wait_status=$?
wait
cat "$SCRATCH"/keepalive.[01] >>"$SCRATCH/accepted.ka" 2>/dev/null || true
[ -s "$SCRATCH/accepted.ka" ] || fail "the keep-alive clients got no 202 before SIGTERM"
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
grep . "$SCRATCH/accepted.ka" >>"$SCRATCH/accepted" || true
consume "$topic" >"$SCRATCH/records.tsv" || true
python3 - "$SCRATCH/accepted" "$SCRATCH/records.tsv" <<'PY'
import json, sys
accepted = {l.strip() for l in open(sys.argv[1]) if l.strip()}
seen = {json.loads(l.split("\t", 1)[1])["event_id"] for l in open(sys.argv[2]) if l.strip()}
missing = accepted - seen
assert not missing, f"{len(missing)} of {len(accepted)} accepted plays missing after SIGTERM"
print("ok:", len(accepted), "accepted plays all in Kafka after a SIGTERM drain")
PY
