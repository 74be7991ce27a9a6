#!/usr/bin/env bash
# Overload benchmark (issue 8, item 3). In one run, on loopback, with a real
# Kafka broker and PostgreSQL:
#   1. capacity: POST /play as fast as 256 keep-alive connections go (wrk);
#   2. overload: twice that rate offered over OVERLOAD_CONNECTIONS
#      connections (bench/overload.lua paces each connection), while the
#      api's RSS is sampled every 0.5 s and GET /healthz, GET /api/top and
#      the page (GET /) are probed every 0.5 s;
#   3. recovery: half the capacity again, which should be all 202.
# Status counts come from the api's own /metrics (requests by route and
# status), so wrk's view and the api's agree by construction. Prints a
# Markdown summary; docs/reliability.md ("Overload") keeps the figures.
#
# Environment: DURATION (s per phase, default 15), OVERLOAD_CONNECTIONS
# (default 2048), TS_BENCH_API_ARGS (extra flags for the api).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
scripts/setup.sh bench # run on its own too: what a fresh machine lacks (wrk, kcat …)
state="$root/var/bench/overload"
duration="${DURATION:-15}"
oconns="${OVERLOAD_CONNECTIONS:-2048}"
kport=18292
pg_port=18240
api_port=18200
pids=()

cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	scripts/kafka.sh stop "$state/kafka" >/dev/null 2>&1 || true
	scripts/pg.sh stop "$state/pg" >/dev/null 2>&1 || true
}
trap cleanup EXIT

bin="${TOPSONGS_BIN:-$root/build/topsongs}"
[ -n "${TOPSONGS_BIN:-}" ] || make -s -j2 all
mkdir -p "$state/web"
scripts/kafka.sh start "$state/kafka" "$kport" >&2
scripts/pg.sh start "$state/pg" "$pg_port" >/dev/null
export TOPSONGS_PG_URL="postgresql://topsongs@127.0.0.1:$pg_port/topsongs"
# The built dashboard when there is one, else a stand-in page: either way
# GET / goes through the same static-file path.
web="$root/web/dist"
if [ ! -f "$web/index.html" ]; then
	web="$state/web"
	echo '<!doctype html><title>Top Songs</title>' >"$web/index.html"
fi

topic="overload-$(date +%s)"
# shellcheck disable=SC2086
TOPSONGS_LOG_LEVEL=warn "$bin" api --api-listen "127.0.0.1:$api_port" --api-web-dir "$web" \
	--kafka-brokers "127.0.0.1:$kport" --kafka-topic "$topic" ${TS_BENCH_API_ARGS:-} \
	>"$state/api.log" 2>&1 &
api_pid=$!
pids+=("$api_pid")
url="http://127.0.0.1:$api_port"
for _ in $(seq 1 300); do
	curl -fs "$url/readyz" >/dev/null 2>&1 && break
	sleep 0.1
done
psql -qAtX -v ON_ERROR_STOP=1 "$TOPSONGS_PG_URL" -f tests/integration/fixtures/charts.sql >/dev/null
top="$url/api/top?region=EU&period=hour&at=2026-11-20T13"
curl -fs "$top" | grep -q '"rank":10' || { echo "overload bench: no fixture chart" >&2; exit 1; }

python3 -c 'import json, uuid, datetime; print(json.dumps({"event_id": str(uuid.uuid4()), "user_id": "probe", "song_id": "s1", "region": "EU", "ts": datetime.datetime.now(datetime.timezone.utc).isoformat()}))' >"$state/play.json"

rss() { # KiB, read without forking so samples keep their pace under load
	local k v _
	while read -r k v _; do [ "$k" = VmRSS: ] && { echo "$v"; return; }; done </proc/"$api_pid"/status
}
count() { # STATUS -> POST /play requests answered with it so far
	curl -fs "$url/metrics" |
		awk -v s="\"$1\"" -F'[{} ]' '$1 == "topsongs_api_requests_total" && $2 ~ "route=\"play\"" && $2 ~ "status=" s {print $4}' |
		awk '{n += $1} END {print n + 0}'
}

# While wrk (pid $1) runs: RSS samples to $2.rss, probes to $2.probe.
watch_run() {
	local t0="$EPOCHREALTIME"
	: >"$2.rss"
	: >"$2.probe"
	: >"$2.post"
	# RSS on its own clock: the probes below may be slow under overload.
	while kill -0 "$1" 2>/dev/null; do
		echo "$(((${EPOCHREALTIME/./} - ${t0/./}) / 1000)) $(rss)" >>"$2.rss"
		sleep 0.5
	done &
	while kill -0 "$1" 2>/dev/null; do
		for u in "$url/healthz" "$top" "$url/"; do
			curl -s -o /dev/null -m 10 -w "${u#"$url"} %{http_code} %{time_total}\n" "$u" >>"$2.probe" || true
		done
		# One play as a client would send it: its status and Retry-After.
		curl -s -o /dev/null -D "$2.hdr" -m 10 -XPOST -H 'Content-Type: application/json' \
			--data-binary "@$state/play.json" -w '%{http_code}\n' "$url/play" >>"$2.post" || true
		grep -qi '^retry-after: [0-9]' "$2.hdr" && echo retry >>"$2.post"
		sleep 0.5
	done
	wait
}

phase() { # NAME CONNECTIONS RATE -> wrk output in $state/NAME.txt; sets DONE_202 DONE_503
	local b202 b503 w m
	b202="$(count 202)"
	b503="$(count 503)"
	RATE="$3" CONNECTIONS="$2" wrk -t2 -c"$2" -d"${duration}s" --latency -s bench/overload.lua \
		"$url/play" >"$state/$1.txt" 2>&1 &
	w=$!
	watch_run "$w" "$state/$1" &
	m=$!
	wait "$w" || true
	wait "$m" || true
	DONE_202=$(($(count 202) - b202))
	DONE_503=$(($(count 503) - b503))
	echo "$1: $(awk '/^Requests\/sec/ {print $2}' "$state/$1.txt") req/s, 202: $DONE_202, 503: $DONE_503" >&2
}

summary_probe() { # FILE -> "n ok, p50 x ms, max y ms" per probed path
	python3 - "$1" <<'PY'
import sys, collections
by = collections.defaultdict(list)
for line in open(sys.argv[1]):
    p, code, t = line.split()
    by[p].append((code, float(t) * 1000))
out = []
for p, v in by.items():
    ok = sum(1 for c, _ in v if c in ("200", "304"))
    ts = sorted(t for _, t in v)
    out.append(f"`{p.split('?')[0]}` {ok}/{len(v)} ok, p50 {ts[len(ts)//2]:.1f} ms, max {ts[-1]:.1f} ms")
print("; ".join(out))
PY
}

summary_post() { # FILE -> "n: a 202, b 503 (c with Retry-After)"
	awk '/^[0-9]/ {n++; s[$1]++} /^retry/ {r++} END {printf "%d sent: %d got 202, %d got 503 (%d of them with Retry-After), %d other", n, s["202"], s["503"], r, n - s["202"] - s["503"]}' "$1"
}

summary_rss() { # FILE -> "min-max MiB"
	awk '{r = $2 / 1024; if (NR == 1 || r < lo) lo = r; if (r > hi) hi = r} END {printf "%.0f–%.0f MiB over %d samples", lo, hi, NR}' "$1"
}

# Warm-up, then the api's capacity in this run.
RATE=0 CONNECTIONS=256 wrk -t2 -c256 -d5s -s bench/overload.lua "$url/play" >/dev/null 2>&1 || true
rss_idle="$(rss)"
phase capacity 256 0
cap_rps="$(awk '/^Requests\/sec/ {print $2}' "$state/capacity.txt")"
cap="$(python3 -c "print(int(float('$cap_rps')))")"
cap_p99="$(awk '$1=="99%" {print $2}' "$state/capacity.txt")"
cap_202=$DONE_202 cap_503=$DONE_503
phase overload "$oconns" $((cap * 2))
o_rps="$(awk '/^Requests\/sec/ {print $2}' "$state/overload.txt")"
o_p50="$(awk '$1=="50%" {print $2}' "$state/overload.txt")"
o_p99="$(awk '$1=="99%" {print $2}' "$state/overload.txt")"
o_202=$DONE_202 o_503=$DONE_503
phase recovery 256 $((cap / 2))
r_rps="$(awk '/^Requests\/sec/ {print $2}' "$state/recovery.txt")"
r_p99="$(awk '$1=="99%" {print $2}' "$state/recovery.txt")"
r_202=$DONE_202 r_503=$DONE_503
rss_end="$(rss)"
# shellcheck disable=SC2086
max_inflight="$("$bin" config ${TS_BENCH_API_ARGS:-} | awk -F' = ' '$1 == "api.max-inflight" {print $2}')"

cat <<MD

### Overload ($(date -u +%Y-%m-%d), $(nproc) cores, ${duration} s per phase, api.max-inflight ${max_inflight:-?})

| phase | offered | connections | answered req/s | 202 | 503 | p50 | p99 | api RSS |
|---|---|---|---|---|---|---|---|---|
| capacity | as fast as it goes | 256 | $cap_rps | $cap_202 | $cap_503 | $(awk '$1=="50%" {print $2}' "$state/capacity.txt") | $cap_p99 | $(summary_rss "$state/capacity.rss") |
| overload | $((cap * 2))/s (2× capacity) | $oconns | $o_rps | $o_202 | $o_503 | $o_p50 | $o_p99 | $(summary_rss "$state/overload.rss") |
| recovery | $((cap / 2))/s (0.5× capacity) | 256 | $r_rps | $r_202 | $r_503 | $(awk '$1=="50%" {print $2}' "$state/recovery.txt") | $r_p99 | $(summary_rss "$state/recovery.rss") |

api RSS idle before the runs $((rss_idle / 1024)) MiB, after them $((rss_end / 1024)) MiB.
Probes every 0.5 s during the overload: $(summary_probe "$state/overload.probe").
During the recovery: $(summary_probe "$state/recovery.probe").
A probe POST /play every 0.5 s during the overload: $(summary_post "$state/overload.post").
MD
