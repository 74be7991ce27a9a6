#!/usr/bin/env bash
# deploy/nginx.conf, run as it is (ports and log paths changed), in front of
# two api processes: plays posted through it are all accepted and in Kafka
# once, both apis take a share, and when one api dies the other takes all.
. "$(dirname "$0")/lib.sh"
command -v nginx >/dev/null || fail "nginx is not installed (scripts/setup.sh test installs nginx-light)"

topic="$(new_topic)"
export TOPSONGS_KAFKA_TOPIC="$topic"
a="$(free_port)"
b="$(free_port)"
n="$(free_port)"
start_api "$a"
api_a=$API_PID
start_api "$b"
wait_ready "$a"
wait_ready "$b"

sed -e "s/server 127.0.0.1:8080 /server 127.0.0.1:$a /; s/server 127.0.0.1:8082 /server 127.0.0.1:$b /" \
	-e "s#listen 80;#listen 127.0.0.1:$n;#" \
	-e "s#/var/log/nginx/topsongs-access.log#$SCRATCH/access.log#" \
	"$ROOT/deploy/nginx.conf" >"$SCRATCH/nginx.conf"
[ "$(diff "$ROOT/deploy/nginx.conf" "$SCRATCH/nginx.conf" | grep -c '^>')" = 4 ] ||
	fail "the example changed in more places than the ports and the log path"
nginx -c "$SCRATCH/nginx.conf" -p "$SCRATCH" \
	-g "pid $SCRATCH/nginx.pid; error_log $SCRATCH/error.log; daemon on;" ||
	fail "nginx did not start: $(cat "$SCRATCH/error.log" 2>/dev/null)"
for _ in $(seq 1 50); do [ -s "$SCRATCH/nginx.pid" ] && break; sleep 0.1; done
pids_to_stop+=("$(cat "$SCRATCH/nginx.pid")")

# post_all FILE: POST /play for every line through nginx; counts statuses.
post_all() {
	python3 - "$1" "$n" <<'PY'
import collections, http.client, sys
conn = http.client.HTTPConnection("127.0.0.1", int(sys.argv[2]), timeout=20)
codes = collections.Counter()
for line in open(sys.argv[1]):
    conn.request("POST", "/play", body=line.encode(), headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    r.read()
    codes[r.status] += 1
print(" ".join(f"{k}:{v}" for k, v in sorted(codes.items())))
PY
}

make_events 300 11 >"$SCRATCH/first.ndjson"
[ "$(post_all "$SCRATCH/first.ndjson")" = "202:300" ] || fail "not every play was accepted through nginx"
accepted() { curl -fs "http://127.0.0.1:$1/metrics" | sed -n 's/^topsongs_api_events_accepted_total \([0-9]*\).*/\1/p'; }
sa="$(accepted "$a")"
sb="$(accepted "$b")"
[ "${sa:-0}" -gt 0 ] && [ "${sb:-0}" -gt 0 ] || fail "one api took no share: $sa and $sb"
[ $((sa + sb)) = 300 ] || fail "the apis accepted $sa + $sb plays, expected 300"

# One api dies: nginx sends everything to the other, nothing is refused.
kill -9 "$api_a"
make_events 200 12 >"$SCRATCH/second.ndjson"
[ "$(post_all "$SCRATCH/second.ndjson")" = "202:200" ] || fail "plays were refused after one api died"

cat "$SCRATCH/first.ndjson" "$SCRATCH/second.ndjson" | python3 -c 'import json,sys; [print(json.loads(l)["event_id"]) for l in sys.stdin]' | sort >"$SCRATCH/sent"
consume "$topic" | cut -f2 | python3 -c 'import json,sys; [print(json.loads(l)["event_id"]) for l in sys.stdin if l.strip()]' | sort >"$SCRATCH/got"
diff -q "$SCRATCH/sent" "$SCRATCH/got" >/dev/null || fail "Kafka does not hold each play once: $(diff "$SCRATCH/sent" "$SCRATCH/got" | head -5)"
echo "ok: 500 plays through nginx to two apis ($sa + $sb, then the survivor alone), each in Kafka once"
