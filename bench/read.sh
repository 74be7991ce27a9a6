#!/usr/bin/env bash
# Read API benchmark (issue 6): wrk on loopback against GET /api/top of
# `topsongs api` over a private PostgreSQL with the fixture charts
# (tests/integration/fixtures/charts.sql) and, in the same run with the same
# wrk script and load, against nginx serving a static file holding the same
# bytes as that answer — the ceiling of HTTP on this machine. First at a
# fixed 2,000 requests/s (the issue-6 target: p99 <= 5 ms), then as fast as
# it goes; each pair alternates api and nginx. Prints a Markdown table;
# docs/benchmarks.md keeps the figures.
#
# Environment: DURATION (s, default 15), RATE (default 2000), CONNECTIONS
# (default 20; 64 for the full-speed runs).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
scripts/setup.sh bench # run on its own too: what a fresh machine lacks (wrk, kcat …)
state="$root/var/bench-read"
duration="${DURATION:-15}"
rate="${RATE:-2000}" conns="${CONNECTIONS:-20}"
# Below the ephemeral range (32768+), where outgoing connections can take a port.
pg_port=18381 api_port=18392 nginx_port=18393
path="/api/top?region=EU&period=hour&at=2026-11-20T13"
pids=()

cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	[ -s "$state/nginx.pid" ] && kill "$(cat "$state/nginx.pid")" 2>/dev/null || true
	scripts/pg.sh stop "$state/pg" >/dev/null 2>&1 || true
}
trap cleanup EXIT

bin="${TOPSONGS_BIN:-$root/build/topsongs}"
[ -n "${TOPSONGS_BIN:-}" ] || make -s -j2 all
command -v nginx >/dev/null || { echo "read bench: nginx is not installed (scripts/setup.sh bench)" >&2; exit 1; }
mkdir -p "$state/www"
scripts/pg.sh start "$state/pg" "$pg_port" >/dev/null
export TOPSONGS_PG_URL="postgresql://topsongs@127.0.0.1:$pg_port/topsongs"
# No Kafka is needed for reads: the producer just stays unready.
TOPSONGS_LOG_LEVEL=error "$bin" api --api-listen "127.0.0.1:$api_port" --api-web-dir "" \
	--kafka-brokers 127.0.0.1:1 >"$state/api.log" 2>&1 &
pids+=("$!")
for _ in $(seq 1 100); do
	curl -fs "http://127.0.0.1:$api_port/healthz" >/dev/null 2>&1 && break
	sleep 0.1
done
psql -qAtX -v ON_ERROR_STOP=1 "$TOPSONGS_PG_URL" -f tests/integration/fixtures/charts.sql >/dev/null
api="http://127.0.0.1:$api_port"
curl -fs "$api$path" >"$state/www/top.json"
grep -q '"rank":10' "$state/www/top.json" ||
	{ echo "read bench: the fixture chart is not there" >&2; exit 1; }
size="$(wc -c <"$state/www/top.json")"

# nginx serves the api's own answer as a file, for the same path and query.
cat >"$state/nginx.conf" <<CONF
worker_processes auto;
pid $state/nginx.pid;
error_log $state/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  # Its best case for a static file: descriptors cached, sendfile.
  open_file_cache max=16 inactive=60s;
  open_file_cache_valid 60s;
  sendfile on;
  tcp_nopush on;
  server {
    listen 127.0.0.1:$nginx_port reuseport backlog=1024;
    root $state/www;
    location = /api/top { default_type application/json; rewrite ^ /top.json break; }
  }
}
CONF
nginx -c "$state/nginx.conf"
ngx="http://127.0.0.1:$nginx_port"
for _ in $(seq 1 50); do curl -fs "$ngx$path" -o /dev/null && break; sleep 0.1; done
cmp -s <(curl -fs "$ngx$path") "$state/www/top.json" ||
	{ echo "read bench: nginx does not serve the same bytes" >&2; exit 1; }

# run_wrk KEY LABEL URL RATE CONNS -> a table row; wrk's output kept in $state.
run_wrk() {
	local out="$state/wrk-$1.txt"
	READ_PATH="$path" RATE="$4" CONNECTIONS="$5" \
		wrk -t2 -c"$5" -d"${duration}s" --latency -s bench/read.lua "$3" >"$out" 2>&1
	awk -v l="$2" '
		/^Requests\/sec/ {rps = $2}
		$1 == "50%" {p50 = $2} $1 == "90%" {p90 = $2} $1 == "99%" {p99 = $2}
		/Latency/ && !lat {max = $4; lat = 1}
		/Non-2xx/ {bad = $NF}
		END {printf "| %s | %s | %s | %s | %s | %s | %d |\n", l, rps, p50, p90, p99, max, bad}' "$out"
	awk '/^Requests\/sec/ {print $2}' "$out" >"$state/rps-$1"
}

# Warm-up: the api's answer cache and both servers' first connections.
READ_PATH="$path" RATE=0 CONNECTIONS=20 wrk -t2 -c20 -d3s -s bench/read.lua "$api" >/dev/null 2>&1 || true
rows=()
rows+=("$(run_wrk api-rate "topsongs api, $rate/s" "$api" "$rate" "$conns")")
rows+=("$(run_wrk nginx-rate "nginx static file, $rate/s" "$ngx" "$rate" "$conns")")
rows+=("$(run_wrk api-full "topsongs api, full speed" "$api" 0 64)")
rows+=("$(run_wrk nginx-full "nginx static file, full speed" "$ngx" 0 64)")
ratio="$(python3 -c "print(f'{$(cat "$state/rps-api-full") / $(cat "$state/rps-nginx-full"):.2f}')")"

cat <<MD

### GET /api/top against nginx ($(date -u '+%Y-%m-%d %H:%M') UTC, $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg), wrk -t2 -d${duration}s)

The same $size-byte JSON body from both; $conns connections at the fixed rate, 64 at full speed.

| target | req/s | p50 | p90 | p99 | max | non-2xx |
|---|---|---|---|---|---|---|
$(printf '%s\n' "${rows[@]}")

Full speed, api / nginx: **$ratio**.
MD
