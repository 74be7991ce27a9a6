#!/usr/bin/env bash
# End-to-end freshness (issue 5): from `POST /play` to the play counted in
# the chart rows GET /api/top serves, under a steady simulator load, with
# api, ingest and scheduler run by `topsongs up` on their defaults (the
# scheduler's default schedules, ingest.flush-ms, the api's answer cache).
#
# The simulator sends LOAD_RATE plays/s (daily mean of its curve) to the
# six default regions; bench/freshness.py posts a probe play every
# PROBE_INTERVAL s to a seventh region, ZZ, that carries only probes, and
# polls ZZ's live hourly chart until each probe is counted (see there).
# Prints a Markdown table; docs/benchmarks.md keeps the figures.
#
# Environment: LOAD_RATE (default 1000), PROBES (default 120),
# PROBE_INTERVAL (s, default 0.5), WARMUP (s, default 20), and any
# TOPSONGS_* key to try other settings (TOPSONGS_INGEST_FLUSH_MS=…,
# TOPSONGS_SCHEDULER_SCHEDULES='aggregate=every 1s', …).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
scripts/setup.sh bench # run on its own too: what a fresh machine lacks (wrk, kcat …)
state="$root/var/bench-freshness"
bin="${TOPSONGS_BIN:-$root/build/topsongs}"
rate="${LOAD_RATE:-1000}" probes="${PROBES:-120}" interval="${PROBE_INTERVAL:-0.5}"
# Below the ephemeral range (32768+), where outgoing connections can take a port.
pgport=18382 kport=18394 api_port=18396 mport=18397
export TOPSONGS_PG_URL="postgresql://topsongs@127.0.0.1:$pgport/topsongs"
export TOPSONGS_KAFKA_BROKERS="127.0.0.1:$kport" TOPSONGS_LAKE_URL="$state/lake"
export TOPSONGS_API_LISTEN="127.0.0.1:$api_port" TOPSONGS_INGEST_METRICS_LISTEN="127.0.0.1:$mport"
export TOPSONGS_REGIONS="NA SA EU AF AS OC ZZ" TOPSONGS_LOG_LEVEL=warn
pids=()

cleanup() {
	for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	scripts/kafka.sh stop "$state/kafka" >/dev/null 2>&1 || true
	scripts/pg.sh stop "$state/pg" >/dev/null 2>&1 || true
}
trap cleanup EXIT

[ -n "${TOPSONGS_BIN:-}" ] || make -s -j2 all
scripts/pg.sh destroy "$state/pg" >/dev/null 2>&1 || true
rm -rf "$state"
mkdir -p "$state"
scripts/pg.sh start "$state/pg" "$pgport" >/dev/null
scripts/kafka.sh start "$state/kafka" "$kport" >/dev/null
"$bin" db migrate >/dev/null
"$bin" catalog load >/dev/null

"$bin" up --no-simulate --state "$state/up" --api-web-dir "" >"$state/up.log" 2>&1 &
up=$!
pids+=("$up")
for _ in $(seq 1 300); do
	curl -fs "http://127.0.0.1:$api_port/readyz" >/dev/null 2>&1 && break
	kill -0 "$up" 2>/dev/null || { echo "freshness: up exited: $(tail -5 "$state/up.log")" >&2; exit 1; }
	sleep 0.1
done
# The load: live plays of the six default regions, as `up` would send them.
"$bin" simulate --seed 13 --rate "$rate" --regions "NA SA EU AF AS OC" \
	--target "http://127.0.0.1:$api_port" --quiet >"$state/simulate.log" 2>&1 &
sim=$!
pids+=("$sim")
sleep "${WARMUP:-20}"
t0="$(date +%s)"
"$root/var/pyenv/bin/python" bench/freshness.py "http://127.0.0.1:$api_port" "$probes" "$interval" \
	"$state/result.json"
t1="$(date +%s)"
kill -0 "$sim" 2>/dev/null || { echo "freshness: the simulator stopped: $(tail -3 "$state/simulate.log")" >&2; exit 1; }

# What the load and the flows did while the probes ran.
q() { psql -X -q -tA -F' ' "$TOPSONGS_PG_URL" -c "$1"; }
plays="$(q "SELECT coalesce(sum(rows), 0) FROM ingest_files WHERE committed_at >= to_timestamp($t0) AND committed_at < to_timestamp($t1)")"
runs="$(q "SELECT flow, count(*), round(avg(extract(epoch FROM finished_at - started_at))::numeric, 2),
	round(percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM finished_at - started_at))::numeric, 2)
	FROM flow_runs WHERE started_at >= to_timestamp($t0) AND started_at < to_timestamp($t1) GROUP BY flow ORDER BY flow" 2>&1 || true)"
read -r n counted p50 p90 p99 max < <("$root/var/pyenv/bin/python" -c '
import json, sys
r = json.load(open(sys.argv[1]))
print(r["probes"], r["counted"], *(f"{r[k]:.2f}" for k in ("p50", "p90", "p99", "max")))' "$state/result.json")
cat <<MD

### Freshness, POST /play -> GET /api/top ($(date -u '+%Y-%m-%d %H:%M') UTC, $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg))

\`topsongs up --no-simulate\` on its defaults$(env | grep -E '^TOPSONGS_(INGEST_FLUSH_MS|SCHEDULER_SCHEDULES)=' | sed 's/^/, /' | tr -d '\n'); simulator at --rate $rate; $n probes every ${interval} s over $((t1 - t0)) s, $counted counted; $((plays / (t1 - t0 > 0 ? t1 - t0 : 1))) plays/s committed to the lake meanwhile.

| p50 | p90 | p99 | max |
|---:|---:|---:|---:|
| $p50 s | $p90 s | $p99 s | $max s |

Flow runs meanwhile (flow, runs, mean s, p99 s):
$(echo "$runs" | sed 's/^/    /')
MD
