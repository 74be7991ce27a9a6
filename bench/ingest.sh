#!/usr/bin/env bash
# Kafka -> lake benchmark: `topsongs ingest` with one and with two processes
# against DuckDB converting the same plays from NDJSON into the same
# partitioned ZSTD Parquet layout, in the same run; then freshness (event
# sent -> its file committed) under a live stream; peak RSS of ingest.
#
# Environment: ROWS (default 1,000,000), LIVE_RATE (plays/s, default 2000),
# LIVE_SECONDS (default 20).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
state="$root/var/bench-ingest"
rows="${ROWS:-1000000}"
bin="${TOPSONGS_BIN:-$root/build/topsongs}"
kport=39192 pgport=35432 api_port=18095
py="$root/var/pyenv/bin/python"
export TOPSONGS_KAFKA_BROKERS="127.0.0.1:$kport"
export TOPSONGS_PG_URL="postgresql://topsongs@127.0.0.1:$pgport/topsongs"
export TOPSONGS_LOG_LEVEL=warn TOPSONGS_INGEST_METRICS_LISTEN=127.0.0.1:0

cleanup() {
	jobs -p | xargs -r kill 2>/dev/null || true
	scripts/kafka.sh stop "$state/kafka" >/dev/null 2>&1 || true
	scripts/pg.sh stop "$state/pg" >/dev/null 2>&1 || true
}
trap cleanup EXIT

[ -n "${TOPSONGS_BIN:-}" ] || make -s -j2 all
scripts/pyenv.sh >/dev/null
rm -rf "$state"
mkdir -p "$state"
scripts/pg.sh start "$state/pg" "$pgport"
scripts/kafka.sh start "$state/kafka" "$kport"

echo "generating $rows plays" >&2
"$bin" simulate --seed 7 --count "$rows" --from -20h --to now --out "$state/plays.ndjson" --quiet
python3 -c '
import json, sys
with open(sys.argv[2], "w") as out:
    for line in open(sys.argv[1]):
        out.write(json.loads(line)["user_id"] + "\t" + line)' "$state/plays.ndjson" "$state/plays.tsv"
kcat -P -b "$TOPSONGS_KAFKA_BROKERS" -t bench -K $'\t' -z lz4 <"$state/plays.tsv"
committed() {
	psql -X -q -tA "$TOPSONGS_PG_URL" -c "SELECT coalesce(sum(rows), 0) FROM ingest_files WHERE topic = 'bench' AND path LIKE '%'" 2>/dev/null || echo 0
}

# run_ingest N LAKE GROUP: N processes until every row is committed; prints seconds.
echo 0 >"$state/rss"
run_ingest() {
	local n="$1" lake="$2" group="$3" pids=() start end r p
	psql -X -q "$TOPSONGS_PG_URL" -c "DELETE FROM ingest_files WHERE topic = 'bench'; DELETE FROM ingest_offsets WHERE topic = 'bench'; DELETE FROM lake_hours" >/dev/null 2>&1 || true
	start=$(date +%s.%N)
	for _ in $(seq 1 "$n"); do
		"$bin" ingest --kafka-topic bench --ingest-group "$group" --lake-url "$lake" \
			--ingest-compact-interval-s 0 >>"$state/ingest.log" 2>&1 &
		pids+=($!)
	done
	while [ "$(committed)" -lt "$rows" ]; do
		for p in "${pids[@]}"; do
			r="$(ps -o rss= -p "$p" 2>/dev/null | tr -d ' ')"
			[ -n "$r" ] && [ "$r" -gt "$(cat "$state/rss")" ] && echo "$r" >"$state/rss"
		done
		sleep 0.2
	done
	end=$(date +%s.%N)
	for p in "${pids[@]}"; do kill -TERM "$p"; wait "$p" || true; done
	python3 -c "print(f'{$end - $start:.2f}')"
}

t1="$(run_ingest 1 "$state/lake1" g1)"
t2="$(run_ingest 2 "$state/lake2" g2)"

echo "DuckDB converting the same NDJSON" >&2
td="$("$py" - "$state/plays.ndjson" "$state/duck" <<'PY'
import duckdb, sys, time
src, out = sys.argv[1], sys.argv[2]
con = duckdb.connect()
t = time.time()
con.sql(f"""COPY (SELECT event_id, user_id, song_id, ts::TIMESTAMPTZ AS ts, country, city, lat, lon,
    device, duration_ms, region, strftime(ts::TIMESTAMPTZ AT TIME ZONE 'UTC', '%Y-%m-%d') AS date,
    hour(ts::TIMESTAMPTZ AT TIME ZONE 'UTC') AS hour
    FROM read_json('{src}', format='newline_delimited'))
    TO '{out}' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (region, date, hour))""")
print(f"{time.time() - t:.2f}")
PY
)"

# Freshness under a live stream: api + ingest + simulator at LIVE_RATE.
echo "freshness: ${LIVE_SECONDS:-20} s of live plays at ${LIVE_RATE:-2000}/s" >&2
"$bin" api --api-listen "127.0.0.1:$api_port" --kafka-topic live >"$state/api.log" 2>&1 &
"$bin" ingest --kafka-topic live --ingest-group live --lake-url "$state/live" >>"$state/ingest.log" 2>&1 &
sleep 2
"$bin" simulate --seed 9 --rate "${LIVE_RATE:-2000}" --duration "${LIVE_SECONDS:-20}" \
	--target "http://127.0.0.1:$api_port" --quiet || true
sleep 3
psql -X -q -tA -F, "$TOPSONGS_PG_URL" -c "SELECT path, extract(epoch FROM committed_at) FROM ingest_files WHERE topic = 'live'" >"$state/commits.csv"
fresh="$("$py" - "$state/live" "$state/commits.csv" <<'PY'
import duckdb, sys
lake, commits = sys.argv[1], sys.argv[2]
r = duckdb.sql(f"""
  WITH c AS (SELECT column0 AS path, column1::DOUBLE AS committed FROM read_csv('{commits}', header=false)),
       r AS (SELECT epoch_ms(ts) / 1000.0 AS sent, filename FROM read_parquet('{lake}/raw/**/*.parquet', filename=true))
  SELECT quantile_cont(committed - sent, 0.5), quantile_cont(committed - sent, 0.99), count(*)
  FROM r JOIN c ON r.filename LIKE '%' || c.path""").fetchall()[0]
print(f"{r[0]:.2f} {r[1]:.2f} {r[2]}")
PY
)"

rate() { python3 -c "print(f'{$rows / $1:,.0f}')"; }
cat <<MD

### Kafka -> lake ($(date -u +%Y-%m-%d), $(nproc) cores, $rows plays over 20 hours of event time)

| engine | seconds | rows/s |
|---|---:|---:|
| topsongs ingest, 1 process | $t1 | $(rate "$t1") |
| topsongs ingest, 2 processes | $t2 | $(rate "$t2") |
| DuckDB NDJSON -> partitioned ZSTD Parquet | $td | $(rate "$td") |

Freshness (event sent by the simulator -> its file committed), $(echo "$fresh" | cut -d' ' -f3) live plays: p50 $(echo "$fresh" | cut -d' ' -f1) s, p99 $(echo "$fresh" | cut -d' ' -f2) s. Peak RSS of one ingest process: $(($(cat "$state/rss") / 1024)) MiB.
MD
