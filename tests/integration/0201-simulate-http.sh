#!/bin/sh
# topsongs simulate over HTTP, against a small scripted api on 127.0.0.1
# (written below into $SCRATCH): batches to POST /plays and single
# POST /play, kept-alive connections, per-item 207 answers, 503 with
# Retry-After resent, rejected items counted, totals and exit statuses.
# 0202 runs the simulator against the real api; this one pins down the
# client's side of the contract, including answers the real api gives only
# under load, without needing a broker.
set -eu
: "${TOPSONGS_BIN:?}" "${SCRATCH:?}" "${ROOT:?}"
PY=${PY:-python3}
cd "$SCRATCH"
fail() { echo "FAIL: $*" >&2; [ -f api.log ] && tail -n 20 api.log >&2; exit 1; }

# The scripted api. Mode "ok" accepts everything; mode "flaky" rejects
# event_ids starting with "0" (400) and answers 503 (Retry-After: 1) the
# first time it sees an event_id starting with "1". Each request is logged.
cat > fake_api.py <<'PYEOF'
import json, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
mode, port_file, log_file = sys.argv[1:4]
lock, seen = threading.Lock(), set()
log = open(log_file, "a")

def verdict(e):
    eid = e.get("event_id", "")
    if mode == "flaky" and eid.startswith("0"):
        return 400
    if mode == "flaky" and eid.startswith("1"):
        with lock:
            if eid not in seen:
                seen.add(eid)
                return 503
    return 202

class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def answer(self, status, body, retry=False):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if retry:
            self.send_header("Retry-After", "1")
        self.end_headers()
        self.wfile.write(data)
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        ctype = self.headers.get("Content-Type", "")
        if self.path == "/plays":
            events = [json.loads(l) for l in body.splitlines() if l.strip()]
        else:
            events = [json.loads(body)]
        with lock:
            log.write(json.dumps({"path": self.path, "ctype": ctype,
                                  "port": self.client_address[1], "events": events}) + "\n")
            log.flush()
        v = [verdict(e) for e in events]
        if self.path == "/play":
            if v[0] == 400:
                return self.answer(400, {"error": "test rejection", "field": "event_id"})
            if v[0] == 503:
                return self.answer(503, {"error": "overloaded"}, retry=True)
            return self.answer(202, {"accepted": 1})
        errors = [{"index": i, "status": s, "field": "event_id", "error": "test"}
                  for i, s in enumerate(v) if s != 202]
        acc = len(v) - len(errors)
        res = {"accepted": acc, "rejected": len(errors), "errors": errors}
        if not errors:
            return self.answer(202, res)
        if acc == 0 and all(e["status"] == 503 for e in errors):
            return self.answer(503, res, retry=True)
        return self.answer(207, res)

srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
open(port_file + ".tmp", "w").write(str(srv.server_address[1]))
import os; os.rename(port_file + ".tmp", port_file)
srv.serve_forever()
PYEOF

start_api() { # MODE
	rm -f port log.jsonl
	$PY fake_api.py "$1" port log.jsonl 2> api.log &
	API=$!
	i=0
	while [ ! -s port ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	[ -s port ] || fail "fake api did not start"
	URL="http://127.0.0.1:$(cat port)"
}
stop_api() { kill "$API" 2>/dev/null || true; wait "$API" 2>/dev/null || true; }
trap stop_api EXIT

check() { # what the fake api received versus what the simulator says
	$PY - "$@" <<'PYEOF'
import json, re, sys
want_total, mode, totals, batch = int(sys.argv[1]), sys.argv[2], open(sys.argv[3]).read(), int(sys.argv[4])
reqs = [json.loads(l) for l in open("log.jsonl")]
got = {}
for r in reqs:
    for e in r["events"]:
        got.setdefault(e["event_id"], 0)
        got[e["event_id"]] += 1
t = dict(re.findall(r"(\w+)=(\S+)", [l for l in totals.splitlines() if "generated=" in l][-1]))
print(f"requests={len(reqs)} ports={len({r['port'] for r in reqs})} distinct={len(got)} totals={t}")
assert int(t["generated"]) == want_total, t
assert int(t["sent"]) == want_total, t
paths = {r["path"] for r in reqs}
assert paths == ({"/plays"} if batch > 1 else {"/play"}), paths
ctypes = {r["ctype"] for r in reqs}
assert ctypes == ({"application/x-ndjson"} if batch > 1 else {"application/json"}), ctypes
assert max(len(r["events"]) for r in reqs) <= batch
# keep-alive: a handful of connections for many requests
assert len({r["port"] for r in reqs}) <= 4, "connections were not reused"
# live and flat out: every play is stamped with its send time, never ahead
import datetime as d
now = d.datetime.now(d.timezone.utc)
for r in reqs:
    for e in r["events"]:
        ts = d.datetime.strptime(e["ts"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=d.timezone.utc)
        assert -1 < (now - ts).total_seconds() < 120, e["ts"]
acc, rej, ret = int(t["accepted"]), int(t["rejected"]), int(t["retried"])
if mode == "ok":
    assert acc == want_total and rej == 0 and ret == 0, t
else:
    # the fake api rejects event_ids starting with "0" (400) and answers
    # 503 once for ids starting with "1" (then accepts the resend)
    sent_ids = list(got)
    bad = sum(got[i] for i in sent_ids if i.startswith("0"))  # never resent: one per play
    flaky = sum(1 for i in sent_ids if i.startswith("1"))
    assert rej == bad and bad > 0, (rej, bad)
    assert ret >= flaky and flaky > 0, (ret, flaky)
    assert acc + rej == want_total, t
    assert all(got[i] >= 2 for i in sent_ids if i.startswith("1")), "503 items not resent"
PYEOF
}

# 1. Batches of 50 to POST /plays, all accepted.
start_api ok
"$TOPSONGS_BIN" simulate --target "$URL" --seed 3 --rate 0 --count 2000 --batch 50 \
	--concurrency 4 --progress 2> totals.txt || fail "run 1 exited $?: $(cat totals.txt)"
check 2000 ok totals.txt 50 || fail "run 1"
grep -q 'simulate:.*generated=' totals.txt || fail "no progress/totals"
stop_api

# 2. Per-item 400 and 503 answers (207), Retry-After honoured; exit 1 (rejections).
start_api flaky
set +e
"$TOPSONGS_BIN" simulate --target "$URL" --seed 4 --rate 0 --count 3000 --batch 100 \
	--concurrency 2 2> totals.txt
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "run 2 exited $rc, expected 1 (some events rejected)"
check 3000 flaky totals.txt 100 || fail "run 2"
grep -q 'last error: item rejected (400)' totals.txt || fail "run 2: no reason shown"
stop_api

# 3. One event per POST /play, with the same per-event accounting.
start_api flaky
set +e
"$TOPSONGS_BIN" simulate --target "$URL" --seed 5 --rate 0 --count 300 --batch 1 \
	--concurrency 3 2> totals.txt
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "run 3 exited $rc, expected 1"
check 300 flaky totals.txt 1 || fail "run 3"
stop_api

# 4. Live, paced in real time: about --rate events a second, stamped now.
start_api ok
"$TOPSONGS_BIN" simulate --target "$URL" --seed 6 --rate 200 --duration 3 --batch 20 \
	2> totals.txt || fail "run 4: $(cat totals.txt)"
$PY - <<'PYEOF' || fail "run 4: pacing"
import datetime as d, json
evs = [e for l in open("log.jsonl") for e in json.loads(l)["events"]]
now = d.datetime.now(d.timezone.utc)
ts = [d.datetime.strptime(e["ts"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=d.timezone.utc) for e in evs]
print(f"live: {len(evs)} events in 3 s")
assert 150 <= len(evs) <= 1200, len(evs)   # 200/s times the daily curve
assert all((now - t).total_seconds() < 30 and (t - now).total_seconds() < 1 for t in ts)
PYEOF
stop_api

# 5. Nobody listening: exit 3 after bounded retries.
set +e
"$TOPSONGS_BIN" simulate --target http://127.0.0.1:9 --rate 0 --count 10 --batch 5 \
	--retries 2 2> totals.txt
rc=$?
set -e
[ "$rc" -eq 3 ] || fail "unreachable api: exit $rc, expected 3"
grep -q 'failed=10 ' totals.txt || fail "unreachable api: $(cat totals.txt)"
grep -q 'retried=20 ' totals.txt || fail "unreachable api: two resends each: $(cat totals.txt)"

echo "ok: simulate HTTP"
