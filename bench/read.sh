#!/usr/bin/env bash
# Read API benchmark: wrk on loopback against GET /api/top of `topsongs api`
# over a private PostgreSQL with the fixture charts
# (tests/integration/fixtures/charts.sql). First at a fixed 2,000 requests/s
# (the issue-6 target: p99 <= 5 ms), then as fast as it goes. Prints wrk's
# latency distribution; docs/benchmarks.md keeps the figures.
#
# Environment: DURATION (s, default 15), RATE (default 2000), CONNECTIONS
# (default 20).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
state="$root/var/bench"
duration="${DURATION:-15}"
export RATE="${RATE:-2000}" CONNECTIONS="${CONNECTIONS:-20}"
pg_port=35433
api_port=18092
pids=()

cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	scripts/pg.sh stop "$state/pg-read" >/dev/null 2>&1 || true
}
trap cleanup EXIT

bin="${TOPSONGS_BIN:-$root/build/topsongs}"
[ -n "${TOPSONGS_BIN:-}" ] || make -s -j2 all
mkdir -p "$state"
scripts/pg.sh start "$state/pg-read" "$pg_port" >/dev/null
export TOPSONGS_PG_URL="postgresql://topsongs@127.0.0.1:$pg_port/topsongs"
# No Kafka is needed for reads: the producer just stays unready.
TOPSONGS_LOG_LEVEL=error "$bin" api --api-listen "127.0.0.1:$api_port" --api-web-dir "" \
	--kafka-brokers 127.0.0.1:1 >"$state/api-read.log" 2>&1 &
pids+=("$!")
for _ in $(seq 1 100); do
	curl -fs "http://127.0.0.1:$api_port/healthz" >/dev/null 2>&1 && break
	sleep 0.1
done
psql -qAtX -v ON_ERROR_STOP=1 "$TOPSONGS_PG_URL" -f tests/integration/fixtures/charts.sql >/dev/null
url="http://127.0.0.1:$api_port"
curl -fs "$url/api/top?region=EU&period=hour&at=2026-11-20T13" | grep -q '"rank":10' ||
	{ echo "read bench: the fixture chart is not there" >&2; exit 1; }

echo "== GET /api/top at $RATE requests/s over $CONNECTIONS connections, ${duration}s"
wrk -t2 -c"$CONNECTIONS" -d"${duration}s" --latency -s bench/read.lua "$url" | sed -n '1,/Transfer/p'
echo "== GET /api/top as fast as it goes (64 connections), ${duration}s"
RATE=0 CONNECTIONS=64 wrk -t2 -c64 -d"${duration}s" --latency -s bench/read.lua "$url" | sed -n '1,/Transfer/p'
