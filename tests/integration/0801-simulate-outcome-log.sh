#!/usr/bin/env bash
# `topsongs simulate --outcome-log`, the record the fault-injection suite
# balances against, checked against a scripted api that logs what it got:
# event_ids starting with "0" are rejected (400), with "1" answered 503 once
# then accepted, with "2" always 503 (given up after --retries); the rest
# are accepted. Each line must carry the event's true fate, region, ts and
# the number of times the api saw it — in batches (207 per item) and one by
# one (POST /play).
set -euo pipefail
: "${TOPSONGS_BIN:?}" "${SCRATCH:?}" "${ROOT:?}"
PY=${PY:-python3}
cd "$SCRATCH"
api=""
trap '[ -n "$api" ] && kill "$api" 2>/dev/null; wait 2>/dev/null || true' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

cat >fake_api.py <<'PYEOF'
import json, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
lock, seen, log = threading.Lock(), {}, open(sys.argv[2], "a")

def verdict(eid):
    with lock:
        seen[eid] = seen.get(eid, 0) + 1
        n = seen[eid]
    return 400 if eid[0] == "0" else 503 if eid[0] == "2" or (eid[0] == "1" and n == 1) else 202

class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Retry-After", "0")
        self.end_headers()
        self.wfile.write(data)
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        events = [json.loads(l) for l in body.splitlines() if l.strip()]
        v = [verdict(e["event_id"]) for e in events]
        with lock:
            for e, s in zip(events, v):
                log.write(json.dumps({"e": e, "status": s}) + "\n")
            log.flush()
        if self.path == "/play":
            return self.answer(v[0], {"error": "test"} if v[0] != 202 else {"accepted": 1})
        errors = [{"index": i, "status": s, "field": "event_id", "error": "test"}
                  for i, s in enumerate(v) if s != 202]
        res = {"accepted": len(v) - len(errors), "rejected": len(errors), "errors": errors}
        self.answer(202 if not errors else 207, res)

srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
open(sys.argv[1] + ".tmp", "w").write(str(srv.server_address[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
srv.serve_forever()
PYEOF

cat >check.py <<'PYEOF'
import collections, json, sys
got = [json.loads(l) for l in open("received.jsonl")]
sends, ev, final = collections.Counter(), {}, {}
for g in got:
    eid = g["e"]["event_id"]
    sends[eid] += 1
    ev[eid] = g["e"]
    final[eid] = g["status"]
lines = [l.rstrip("\n").split("\t") for l in open("outcomes.tsv")]
assert all(len(l) == 5 for l in lines), lines[:3]
fate = {"0": "R", "1": "A", "2": "F"}
seen = collections.Counter()
for tag, eid, region, ts, n in lines:
    seen[eid] += 1
    assert tag == fate.get(eid[0], "A"), (tag, eid)
    assert region == ev[eid]["region"] and ts == ev[eid]["ts"], (eid, region, ts)
    assert int(n) == sends[eid], (eid, n, sends[eid])
# every event the api saw has its line (client retries of the model have
# the same event_id and a line each; none are generated here)
assert set(seen) == set(sends), (len(seen), len(sends))
assert max(seen.values()) == 1
tags = collections.Counter(l[0] for l in lines)
assert tags["A"] and tags["R"] and tags["F"], tags
t = [l for l in open("totals.txt") if "generated=" in l][-1]
for k, tag in (("accepted", "A"), ("rejected", "R"), ("failed", "F")):
    assert f" {k}={tags[tag]} " in t, (k, tags, t)
print("ok:", dict(tags))
PYEOF

for batch in 50 1; do
	rm -f port received.jsonl outcomes.tsv
	$PY fake_api.py port received.jsonl &
	api=$!
	for _ in $(seq 1 100); do [ -s port ] && break; sleep 0.1; done
	[ -s port ] || fail "fake api did not start"
	rc=0
	"$TOPSONGS_BIN" simulate --target "http://127.0.0.1:$(cat port)" --seed 9 --rate 0 \
		--count 400 --retry-share 0 --batch "$batch" --concurrency 3 --retries 2 \
		--outcome-log outcomes.tsv 2>totals.txt || rc=$?
	[ "$rc" = 1 ] || fail "batch $batch: exit $rc, expected 1 (rejected and given-up events): $(cat totals.txt)"
	$PY check.py || fail "batch $batch: the outcome log is wrong"
	kill "$api"
	wait "$api" 2>/dev/null || true
	api=""
done

# A log that cannot be created is a clear error before anything is sent.
rc=0
"$TOPSONGS_BIN" simulate --target http://127.0.0.1:9 --count 1 --outcome-log "$SCRATCH/no/such/dir/x" \
	2>err.txt || rc=$?
[ "$rc" != 0 ] && grep -q "cannot create" err.txt || fail "unwritable outcome log: exit $rc, $(cat err.txt)"
echo "ok: simulate --outcome-log"
