#!/usr/bin/env bash
# A/B of the ledger's cost on the ingest path: the api before the ledger
# (BASE_BIN, e.g. built from the commit before it) and this build, both
# running at once against one Kafka broker, measured alternately with wrk:
# POST /plays (1,000 per batch, 16 connections) and POST /play (64
# connections), ROUNDS times each. PostgreSQL is pointed at a closed port,
# so the 202 counts stay in the api's memory (the flush fails fast) and no
# database of anyone's is written. Not part of `make bench`: it needs a
# second binary.
#
#   git archive <commit> | tar -x -C /tmp/base && make -C /tmp/base build/topsongs
#   BASE_BIN=/tmp/base/build/topsongs bench/ledger_ab.sh
#
# NEW_ARGS adds flags to the second api only: the same binary with and
# without the journal of 202s is
#   BASE_BIN=build/topsongs NEW_ARGS="--api-journal-dir var/bench-ab/journal" bench/ledger_ab.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
scripts/setup.sh bench # run on its own too: what a fresh machine lacks (wrk, kcat …)
: "${BASE_BIN:?set BASE_BIN to the api built before the ledger}"
new="${TOPSONGS_BIN:-$root/build/topsongs}"
state="$root/var/bench-ab"
rounds="${ROUNDS:-3}"
mkdir -p "$state"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	scripts/kafka.sh stop "$state/kafka" >/dev/null 2>&1 || true
}
trap cleanup EXIT
scripts/kafka.sh start "$state/kafka" 39192 >/dev/null
start() { # BIN PORT [flags...]
	TOPSONGS_PG_URL=postgresql://x@127.0.0.1:1/x TOPSONGS_LOG_LEVEL=warn "$1" api \
		--api-listen "127.0.0.1:$2" --kafka-brokers 127.0.0.1:39192 \
		--kafka-topic "ab-$2-$(date +%s)" "${@:3}" >"$state/api-$2.log" 2>&1 &
	pids+=("$!")
	for _ in $(seq 1 300); do
		curl -fs "http://127.0.0.1:$2/readyz" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "the api on $2 did not start" >&2
	exit 1
}
start "$BASE_BIN" 18190
# shellcheck disable=SC2086 # NEW_ARGS is a list of flags
start "$new" 18191 ${NEW_ARGS:-}
name() { [ "$1" = 18190 ] && echo base || echo ledger; }
for port in 18190 18191; do
	BATCH=1000 wrk -t2 -c16 -d3s -s bench/batch.lua "http://127.0.0.1:$port/plays" >/dev/null 2>&1 || true
done
for _ in $(seq 1 "$rounds"); do
	for port in 18190 18191; do
		BATCH=1000 wrk -t2 -c16 -d8s --latency -s bench/batch.lua "http://127.0.0.1:$port/plays" >"$state/w.txt" 2>&1
		echo "$(name $port) POST /plays: $(awk '/^Requests\/sec/ {print $2}' "$state/w.txt") req/s, p99 $(awk '$1=="99%" {print $2}' "$state/w.txt")"
		wrk -t2 -c64 -d8s --latency -s bench/post.lua "http://127.0.0.1:$port/play" >"$state/w.txt" 2>&1
		echo "$(name $port) POST /play: $(awk '/^Requests\/sec/ {print $2}' "$state/w.txt") req/s, p99 $(awk '$1=="99%" {print $2}' "$state/w.txt")"
	done
done
