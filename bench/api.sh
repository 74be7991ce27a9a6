#!/usr/bin/env bash
# Ingest benchmark: wrk on loopback against POST /play of `topsongs api`
# (with a real Kafka broker acknowledging every record) and, in the same run
# with the same script and load, against nginx answering 202 without doing
# anything — the ceiling of HTTP on this machine. Then batches through
# POST /plays in events/s. Prints a Markdown table; docs/benchmarks.md keeps
# the latest figures.
#
# The broker's JVM compiles its hot paths during the first tens of seconds
# of load (it then spends about a third of the CPU per record it spent at
# first: docs/benchmarks.md), so the api is loaded for WARMUP seconds before
# anything is measured. Then nginx and the api are measured in alternating
# pairs, REPEAT times, and the median ratio is reported: a pair shares the
# machine's mood of the moment.
#
# Environment: DURATION (s, default 15), CONNECTIONS (default 256),
# WARMUP (s, default 30), REPEAT (pairs, default 3).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
scripts/setup.sh bench # run on its own too: what a fresh machine lacks (wrk, kcat …)
state="$root/var/bench"
duration="${DURATION:-15}"
conns="${CONNECTIONS:-256}"
warmup="${WARMUP:-30}"
repeat="${REPEAT:-3}"
kport=39092
api_port=18090
nginx_port=18091
pids=()

cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	[ -f "$state/nginx.pid" ] && kill "$(cat "$state/nginx.pid")" 2>/dev/null || true
	scripts/kafka.sh stop "$state/kafka" >/dev/null 2>&1 || true
}
trap cleanup EXIT

bin="${TOPSONGS_BIN:-$root/build/topsongs}"
[ -n "${TOPSONGS_BIN:-}" ] || make -s -j2 all
mkdir -p "$state"
scripts/kafka.sh start "$state/kafka" "$kport"

cat >"$state/nginx.conf" <<CONF
worker_processes auto;
pid $state/nginx.pid;
error_log $state/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_buffer_size 64k;
  server {
    listen 127.0.0.1:$nginx_port reuseport backlog=1024;
    location / { default_type application/json; return 202 '{"status":"accepted"}\n'; }
  }
}
CONF
nginx -c "$state/nginx.conf"

topic="bench-$(date +%s)"
TOPSONGS_LOG_LEVEL=warn "$bin" api --api-listen "127.0.0.1:$api_port" \
	--kafka-brokers "127.0.0.1:$kport" --kafka-topic "$topic" >"$state/api.log" 2>&1 &
api_pid=$!
pids+=("$api_pid")
for _ in $(seq 1 300); do
	curl -fs "http://127.0.0.1:$api_port/readyz" >/dev/null 2>&1 && break
	sleep 0.1
done

# Peak resident memory of the api, sampled while a command runs.
rss_peak=0
sample_rss() {
	local r
	while kill -0 "$1" 2>/dev/null; do
		r="$(ps -o rss= -p "$api_pid" 2>/dev/null | tr -d ' ')"
		[ -n "$r" ] && [ "$r" -gt "$rss_peak" ] && rss_peak="$r" && echo "$r" >"$state/rss"
		sleep 0.2
	done
}

run_wrk() { # label url script -> sets RPS P50 P99
	local out="$state/wrk-$1.txt"
	wrk -t2 -c"$conns" -d"${duration}s" --latency -s "$3" "$2" >"$out" 2>&1 &
	local w=$!
	sample_rss "$w" &
	wait "$w"
	RPS="$(awk '/^Requests\/sec/ {print $2}' "$out")"
	P50="$(awk '$1=="50%" {print $2}' "$out")"
	P99="$(awk '$1=="99%" {print $2}' "$out")"
	NON2XX="$(awk '/Non-2xx/ {print $NF}' "$out")"
	# "N requests in 15.01s, ..." and, from bench/batch.lua, the plays the
	# api said it accepted.
	SECS="$(awk '/requests in/ {sub(/s,$/, "", $4); print $4}' "$out")"
	ACCEPTED="$(awk '/^accepted plays:/ {print $3}' "$out")"
	echo "$1: $RPS req/s, p50 $P50, p99 $P99, non-2xx ${NON2XX:-0}" >&2
}

# Warm-up (the broker's JIT; nginx needs none), then alternating pairs.
wrk -t2 -c"$conns" -d"${warmup}s" -s bench/post.lua "http://127.0.0.1:$api_port/play" \
	>/dev/null 2>&1 || true
pairs=()
for i in $(seq 1 "$repeat"); do
	run_wrk "nginx-$i" "http://127.0.0.1:$nginx_port/play" bench/post.lua
	n_rps="$RPS" n_p50="$P50" n_p99="$P99"
	run_wrk "api-$i" "http://127.0.0.1:$api_port/play" bench/post.lua
	# ratio first, so that a numeric sort orders the pairs by it
	pairs+=("$(python3 -c "print(f'{$RPS/$n_rps:.3f}')") $n_rps $n_p50 $n_p99 $RPS $P50 $P99 ${NON2XX:-0}")
done
# The median pair by ratio.
read -r ratio n_rps n_p50 n_p99 a_rps a_p50 a_p99 a_non \
	< <(printf '%s\n' "${pairs[@]}" | sort -n | sed -n "$(((repeat + 1) / 2))p")
all_ratios="$(printf '%s\n' "${pairs[@]}" | awk '{printf "%s%.2f", (NR > 1 ? ", " : ""), $1}')"
BATCH=1000 run_wrk batch "http://127.0.0.1:$api_port/plays" bench/batch.lua
b_rps="$RPS" b_p99="$P99" b_non="${NON2XX:-0}" b_acc="${ACCEPTED:-0}" b_secs="$SECS"
rss_now="$(ps -o rss= -p "$api_pid" | tr -d ' ')"
rss_peak="$(cat "$state/rss" 2>/dev/null || echo 0)"

# Acknowledged plays only, as the api counted them in its answers: a batch
# answered 503 (shed, or Kafka's queue full) counts for nothing.
events="$(python3 -c "print(f'{$b_acc/$b_secs:,.0f}')")"
cat <<MD

### POST /play and POST /plays ($(date -u +%Y-%m-%d), $(nproc) cores, wrk -t2 -c$conns -d${duration}s, ${warmup} s warm-up, median of $repeat pairs)

| target | req/s | p50 | p99 | notes |
|---|---|---|---|---|
| nginx \`return 202\` (ceiling) | $n_rps | $n_p50 | $n_p99 | same wrk script and body |
| topsongs api POST /play | $a_rps | $a_p50 | $a_p99 | 202 after Kafka ack (acks=all, idempotent); non-2xx: $a_non |
| topsongs api POST /plays (1000/batch) | $b_rps | – | $b_p99 | **$events events/s** acknowledged; non-2xx: $b_non |

Ratio api / nginx: **$(printf '%.2f' "$ratio")** (the median pair; all pairs: $all_ratios). api peak RSS during the runs: $((rss_peak / 1024)) MiB (at the end: $((rss_now / 1024)) MiB).
MD
