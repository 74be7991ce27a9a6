#!/usr/bin/env bash
# Hostile HTTP against the running api, from raw sockets: conflicting and
# impossible Content-Lengths, a body shorter than announced, chunked bodies
# with a Content-Length, pipelined garbage, oversized headers, slowloris
# connections. Each gets a 4xx or a closed connection — never a 2xx for what
# is not a valid play, never a crash; valid plays sent around them are still
# served; Kafka holds exactly the valid plays.
. "$(dirname "$0")/lib.sh"

topic="$(new_topic)"
API_PORT="$(free_port)"
start_api "$API_PORT" --kafka-topic "$topic" --api-max-body 65536 --api-max-batch 50 \
	--api-idle-timeout-s 2 --api-max-connections 300
wait_ready "$API_PORT"

"$PY" - "$API_PORT" "$SCRATCH/sent" <<'PY'
import json, os, socket, sys, time, uuid, datetime

sys.path.insert(0, os.path.join(os.environ["ROOT"], "tests/integration"))
import rawhttp

port, sent_path = int(sys.argv[1]), sys.argv[2]
sent = []

def play():
    ev = {"event_id": str(uuid.uuid4()), "user_id": "u1", "song_id": "s1", "region": "EU",
          "ts": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")}
    return json.dumps(ev).encode(), ev["event_id"]

def exchange(raw, read_for=3.0):
    """The status codes answered before close/timeout."""
    return [status for status, _ in rawhttp.exchange(port, raw, read_for)]

def valid_play_still_served():
    body, eid = play()
    codes = exchange(b"POST /play HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body), 10)
    assert codes == [202], f"a valid play got {codes}"
    sent.append(eid)

def hostile(name, raw, read_for=3.0):
    codes = exchange(raw, read_for)
    assert all(400 <= c < 500 for c in codes), f"{name}: answered {codes}"
    valid_play_still_served()
    print(f"ok: {name}: {codes or 'closed'}")

body, _ = play()
H = b"POST /play HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
hostile("two different Content-Lengths",
        H + b"Content-Length: %d\r\nContent-Length: %d\r\n\r\n%s" % (len(body), len(body) - 5, body))
hostile("negative Content-Length", H + b"Content-Length: -5\r\n\r\n" + body)
hostile("Content-Length not a number", H + b"Content-Length: 12abc\r\n\r\n" + body)
hostile("Content-Length of a terabyte", H + b"Content-Length: 1099511627776\r\n\r\n" + body)
hostile("body shorter than announced, then silence",
        H + b"Content-Length: %d\r\n\r\n%s" % (len(body) + 100, body), read_for=5)
hostile("chunked and a Content-Length",
        H + b"Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
hostile("chunk size overflow", H + b"Transfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\nxx\r\n")
hostile("a 100 KB header", H + b"X-Big: " + b"a" * 100000 + b"\r\nContent-Length: 2\r\n\r\n{}")
hostile("10,000 headers", H + b"".join(b"X-%d: y\r\n" % i for i in range(10000)) + b"\r\n")
hostile("not HTTP at all", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 500)
hostile("a request line of 64 KB", b"GET /" + b"a" * 65536 + b" HTTP/1.1\r\nHost: x\r\n\r\n")

# Pipelined: one valid play, then garbage on the same connection. The play
# is accepted (and must be in Kafka); the garbage gets a 4xx, a close, or —
# as it names HTTP/9.9 — 505 HTTP Version Not Supported, the status RFC 9110
# gives a major version the server does not speak. Never a 2xx.
body, eid = play()
codes = exchange(H + b"Content-Length: %d\r\n\r\n%s" % (len(body), body) +
                 b"GARBAGE / HTTP/9.9\r\n\x00\x01\x02\r\n\r\n" * 3)
assert codes and codes[0] == 202 and all(400 <= c < 500 or c == 505 for c in codes[1:]), f"pipelined: {codes}"
sent.append(eid)
valid_play_still_served()
print(f"ok: pipelined garbage after a valid play: {codes}")

# Slowloris: 200 connections dribbling a header a byte at a time. The api
# closes them after its idle timeout (2 s here) and serves others meanwhile.
slow = []
for _ in range(200):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"POST /play HTTP/1.1\r\nHost: x\r\n")
    slow.append(s)
t0 = time.time()
valid_play_still_served()
closed, deadline = 0, time.time() + 15
while time.time() < deadline and closed < len(slow):
    for s in slow:
        if s.fileno() < 0:
            continue
        try:
            s.sendall(b"X")
            time.sleep(0.005)
        except OSError:
            s.close()
            closed += 1
    time.sleep(0.5)
assert closed == len(slow), f"only {closed} of {len(slow)} slow connections were closed"
print(f"ok: slowloris: {closed} slow connections closed within {time.time() - t0:.1f} s, valid plays served meanwhile")
valid_play_still_served()
open(sent_path, "w").write("\n".join(sent) + "\n")
PY
[ $? = 0 ] || fail "hostile HTTP"

curl -fs "http://127.0.0.1:$API_PORT/healthz" >/dev/null || fail "the api is not healthy after the attacks"
kill -0 "$API_PID" || fail "the api died"
sort "$SCRATCH/sent" >"$SCRATCH/sent.sorted"
consume "$topic" | cut -f2 | python3 -c 'import json,sys; [print(json.loads(l)["event_id"]) for l in sys.stdin if l.strip()]' | sort >"$SCRATCH/got"
diff "$SCRATCH/sent.sorted" "$SCRATCH/got" >&2 || fail "Kafka does not hold exactly the valid plays"
echo "ok: $(wc -l <"$SCRATCH/got") valid plays in Kafka, nothing else"
