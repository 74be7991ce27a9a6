#!/usr/bin/env bash
# Kafka -> lake benchmark: `topsongs ingest` with one and with two processes
# against DuckDB converting the same plays from NDJSON into the same
# partitioned ZSTD Parquet layout, in the same run; then freshness (event
# sent -> its file committed) under a live stream; peak RSS of ingest.
#
# Fair by construction: the same rows (the NDJSON file is what was produced
# to the topic), the same layout (region/date/hour folders, ZSTD), DuckDB
# held to 1 thread against 1 ingest process and given all its threads
# against 2 processes. Besides wall time, each engine's CPU seconds are
# reported: on a machine shared with other work the wall time mostly
# measures the neighbours, the CPU time much less so.
#
# Environment: ROWS (default 1,000,000), REPEAT (runs of each engine, the
# best kept; default 1), LIVE_RATE (plays/s, default 2000), LIVE_SECONDS
# (default 20), TS_TEST_PORT_OFFSET (moves the ports, as for make test).
set -euo pipefail
shopt -s inherit_errexit # a failure inside $(run_ingest …) stops the script too

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
scripts/setup.sh bench # run on its own too: what a fresh machine lacks (wrk, kcat …)
state="$root/var/bench-ingest"
rows="${ROWS:-1000000}"
bin="${TOPSONGS_BIN:-$root/build/topsongs}"
off="${TS_TEST_PORT_OFFSET:-0}"
kport=$((39192 + off)) pgport=$((35432 + off)) api_port=$((18095 + off)) mport=$((18100 + off))
repeat="${REPEAT:-1}"
py="$root/var/pyenv/bin/python"
export TOPSONGS_KAFKA_BROKERS="127.0.0.1:$kport"
export TOPSONGS_PG_URL="postgresql://topsongs@127.0.0.1:$pgport/topsongs"
export TOPSONGS_LOG_LEVEL=warn

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
# Kafka's default group.initial.rebalance.delay.ms (the tests' broker has 0):
# two processes started together then join the group's first generation
# together and split the partitions at once, as on a production broker,
# instead of one taking all six until a rebalance (docs/ingest.md, "Two
# processes starting together"). The wait is in the start-up column.
KAFKA_GROUP_DELAY_MS=3000 scripts/kafka.sh start "$state/kafka" "$kport"

echo "generating $rows plays" >&2
"$bin" simulate --seed 7 --count "$rows" --from -20h --to now --out "$state/plays.ndjson" --quiet
python3 -c '
import json, sys
with open(sys.argv[2], "w") as out:
    for line in open(sys.argv[1]):
        out.write(json.loads(line)["user_id"] + "\t" + line)' "$state/plays.ndjson" "$state/plays.tsv"
kcat -P -b "$TOPSONGS_KAFKA_BROKERS" -t bench -K $'\t' -z lz4 <"$state/plays.tsv"
# The broker's first consumer group creates its offsets topic, about a
# second; a consumer group of its own pays that here, not the first run.
timeout 60 kcat -C -b "$TOPSONGS_KAFKA_BROKERS" -G warm-up -X auto.offset.reset=earliest \
	-c 1 -q bench >/dev/null || { echo "the warm-up consumer read nothing in 60 s" >&2; exit 1; }
committed() {
	psql -X -q -tA "$TOPSONGS_PG_URL" -c "SELECT coalesce(sum(rows), 0) FROM ingest_files WHERE topic = 'bench' AND path LIKE '%'" 2>/dev/null || echo 0
}

# metric_of PORT NAME: sets GOT to an ingest process's metric
# topsongs_ingest_NAME on its /metrics (0 while it is not up yet): rows
# committed, or the time of its last commit. Read through bash's
# /dev/tcp, with no process started: polling PostgreSQL with psql cost
# about 75 ms of CPU a call, a quarter of a core taken from the run being
# measured.
metric_of() {
	local line
	GOT=0
	# Braces: bash reports a failed redirection of exec before exec's own
	# 2>/dev/null applies (the process is not listening yet).
	{ exec 3<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || return 0
	printf 'GET /metrics HTTP/1.0\r\nHost: bench\r\n\r\n' >&3
	while IFS= read -r line <&3; do
		case "$line" in "topsongs_ingest_$2 "*) GOT="${line##* }" ;; esac
	done
	exec 3<&-
	GOT="${GOT%$'\r'}"
}

# peak_rss PID: raises the peak in $state/rss (KiB) to the process's own
# high-water mark (VmHWM). A file, not a variable: run_ingest runs in a
# command substitution's subshell.
peak_rss() {
	local k v _
	while read -r k v _; do
		if [ "$k" = "VmHWM:" ] && [ "$v" -gt "$(<"$state/rss")" ]; then
			echo "$v" >"$state/rss"
		fi
	done <"/proc/$1/status"
	return 0
}

# CPU seconds (user + system, all threads) a live process has used so far.
cpu_of() { awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$1/stat" 2>/dev/null || echo 0; }

# first_assigned LOG...: the time (seconds since the epoch) of the first
# "partition assigned" line in the processes' logs: when records could
# first flow. Before it, the processes start, connect and join the group.
first_assigned() {
	python3 - "$@" <<'PY'
import datetime, json, sys
times = []
for name in sys.argv[1:]:
    for line in open(name):
        if line.startswith("{") and '"partition assigned"' in line:
            ts = json.loads(line)["ts"].replace("Z", "+00:00")
            times.append(datetime.datetime.fromisoformat(ts).timestamp())
            break
if not times:
    sys.exit(f"no 'partition assigned' line in {' '.join(sys.argv[1:])}")
print(min(times))
PY
}

# run_ingest N LAKE GROUP: N processes until every row is committed; prints
# "seconds cpu-seconds start-up-seconds": seconds from the first partition
# assigned to the last row committed, and before that the start-up (process
# start, connections, joining the group). Done is read from the processes'
# own metrics every 50 ms, then checked against PostgreSQL once the clock
# has stopped.
echo 0 >"$state/rss"
run_ingest() {
	local n="$1" lake="$2" group="$3" pids=() ports=() logs=() start end assigned p i cpu=0 total
	psql -X -q "$TOPSONGS_PG_URL" -c "DELETE FROM ingest_files WHERE topic = 'bench'; DELETE FROM ingest_offsets WHERE topic = 'bench'; DELETE FROM lake_hours" >/dev/null 2>&1 || true
	rm -rf "$lake"
	start=$(date +%s.%N)
	for i in $(seq 1 "$n"); do
		ports+=($((mport + i)))
		logs+=("$state/ingest-$group-$i.log")
		TOPSONGS_LOG_LEVEL=info TOPSONGS_LOG_FORMAT=json "$bin" ingest --kafka-topic bench --ingest-group "$group" \
			--lake-url "$lake" --ingest-compact-interval-s 0 \
			--ingest-metrics-listen "127.0.0.1:${ports[-1]}" >"${logs[-1]}" 2>&1 &
		pids+=($!)
	done
	while :; do
		total=0
		for p in "${ports[@]}"; do
			metric_of "$p" rows_committed_total
			total=$((total + GOT))
		done
		[ "$total" -lt "$rows" ] || break
		for p in "${pids[@]}"; do
			kill -0 "$p" 2>/dev/null || {
				echo "ingest $p exited before the end; see ${logs[*]}" >&2
				exit 1
			}
		done
		sleep 0.05
	done
	# The end is the last commit's time as the processes report it: the
	# 50 ms poll above only notices it, up to 50 ms later, which DuckDB's
	# own clock does not pay.
	end=0
	for p in "${ports[@]}"; do
		metric_of "$p" last_commit_seconds
		end="$(python3 -c "print(max($end, $GOT))")"
	done
	[ "$end" != 0 ] || end=$(date +%s.%N)
	[ "$(committed)" = "$rows" ] ||
		{ echo "ingest reported $total rows, PostgreSQL holds $(committed)" >&2; exit 1; }
	for p in "${pids[@]}"; do
		cpu="$(python3 -c "print($cpu + $(cpu_of "$p"))")"
		peak_rss "$p"
	done
	for p in "${pids[@]}"; do
		kill -TERM "$p"
		wait "$p" || true
	done
	assigned="$(first_assigned "${logs[@]}")"
	cat "${logs[@]}" >>"$state/ingest.log"
	rm -f "${logs[@]}"
	python3 -c "print(f'{$end - $assigned:.2f} {$cpu:.2f} {$assigned - $start:.2f}')"
}

# run_duckdb THREADS: the same NDJSON into the same layout; prints
# "seconds cpu-seconds start-up-seconds": the COPY's time and CPU (the whole
# DuckDB process, all its threads), and before it Python's start, the
# import and the connection.
run_duckdb() {
	rm -rf "$state/duck"
	"$py" - "$state/plays.ndjson" "$state/duck" "$1" "$rows" "$(date +%s.%N)" <<'PY'
import duckdb, resource, sys, time
src, out, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
con = duckdb.connect(config={"threads": threads})
r0, t = resource.getrusage(resource.RUSAGE_SELF), time.time()
con.sql(f"""COPY (SELECT event_id, user_id, song_id, ts::TIMESTAMPTZ AS ts, country, city, lat, lon,
    device, duration_ms, region, strftime(ts::TIMESTAMPTZ AT TIME ZONE 'UTC', '%Y-%m-%d') AS date,
    hour(ts::TIMESTAMPTZ AT TIME ZONE 'UTC') AS hour
    FROM read_json('{src}', format='newline_delimited'))
    TO '{out}' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (region, date, hour))""")
wall, r1 = time.time() - t, resource.getrusage(resource.RUSAGE_SELF)
cpu = r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime
n = con.execute(f"SELECT count(*) FROM read_parquet('{out}/**/*.parquet')").fetchall()[0][0]
if n != int(sys.argv[4]):
    sys.exit(f"DuckDB wrote {n} rows")
print(f"{wall:.2f} {cpu:.2f} {t - float(sys.argv[5]):.2f}")
PY
}

# best OLD NEW: the run with the smaller wall time.
best() { if [ -z "$1" ] || python3 -c "import sys; sys.exit(not (${2%% *} < ${1%% *}))"; then echo "$2"; else echo "$1"; fi; }

t1="" t2="" d1="" dn=""
for i in $(seq 1 "$repeat"); do
	echo "run $i of $repeat: ingest x1, DuckDB 1 thread, ingest x2, DuckDB $(nproc) threads" >&2
	# One assignment per run, so that a failed run stops the script.
	# Each run starts with nothing left to write back (sync): ingest
	# fsyncs its files, and ext4's journal commits then also waited for
	# the previous run's writeback (DuckDB makes nothing durable).
	sync
	r="$(run_ingest 1 "$state/lake1" "g1-$i")"
	t1="$(best "$t1" "$r")"
	sync
	s="$(run_duckdb 1)"
	d1="$(best "$d1" "$s")"
	sync
	u="$(run_ingest 2 "$state/lake2" "g2-$i")"
	t2="$(best "$t2" "$u")"
	sync
	v="$(run_duckdb "$(nproc)")"
	dn="$(best "$dn" "$v")"
	# Every run's seconds, not only the best: the spread is the noise.
	echo "  seconds: ingest x1 ${r%% *}, DuckDB 1 thread ${s%% *}, ingest x2 ${u%% *}, DuckDB $(nproc) threads ${v%% *}" >&2
done

# Freshness under a live stream: api + ingest + simulator at LIVE_RATE.
echo "freshness: ${LIVE_SECONDS:-20} s of live plays at ${LIVE_RATE:-2000}/s" >&2
"$bin" api --api-listen "127.0.0.1:$api_port" --kafka-topic live >"$state/api.log" 2>&1 &
TOPSONGS_LOG_LEVEL=info "$bin" ingest --kafka-topic live --ingest-group live --lake-url "$state/live" \
	--ingest-metrics-listen 127.0.0.1:0 >"$state/ingest-live.log" 2>&1 &
# The plays start once the group has formed (the broker waits 3 s for more
# members): freshness measures the stream, not the group's first join.
for _ in $(seq 1 120); do
	grep -q "partition assigned" "$state/ingest-live.log" && break
	sleep 0.25
done
grep -q "partition assigned" "$state/ingest-live.log" ||
	{ echo "the live ingest was assigned no partition in 30 s; see $state/ingest-live.log" >&2; exit 1; }
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

# A result is "seconds cpu-seconds start-up-seconds"; f N RESULT picks one.
f() { echo "$2" | cut -d' ' -f"$1"; }
launch() { python3 -c "print(f'{$(f 1 "$1") + $(f 3 "$1"):.2f}')"; }
rate() { python3 -c "print(f'{$rows / $1:,.0f}')"; }
ratio() { python3 -c "print(f'{$2 / $1:.2f}')"; }
size_of() { echo "$(find "$1" -name '*.parquet' | wc -l) files, $(du -sb "$1" | awk '{ printf "%.1f", $1 / 1e6 }') MB"; }
row() { echo "| $1 | $(f 1 "$2") | $(rate "$(f 1 "$2")") | $(f 3 "$2") | $(rate "$(launch "$2")") | $(f 2 "$2") | $(rate "$(f 2 "$2")") |"; }
cat <<MD

### Kafka -> lake ($(date -u +%Y-%m-%d), $(nproc) cores, $rows plays in $(find "$state/duck" -name '*.parquet' -printf '%h\n' | sort -u | wc -l) lake partitions, best of $repeat)

Seconds: ingest from its first partition assigned to its last row committed, DuckDB its COPY; start-up: before that (ingest: starting, connecting, joining the group; DuckDB: Python, the import, the connection).

| engine | seconds | rows/s | start-up seconds | rows/s from launch | CPU seconds | rows per CPU second |
|---|---:|---:|---:|---:|---:|---:|
$(row "topsongs ingest, 1 process" "$t1")
$(row "DuckDB, 1 thread" "$d1")
$(row "topsongs ingest, 2 processes" "$t2")
$(row "DuckDB, $(nproc) threads" "$dn")

Ratio ingest / DuckDB (rows/s): 1 process vs 1 thread **$(ratio "$(f 1 "$t1")" "$(f 1 "$d1")")x**, 2 processes vs $(nproc) threads **$(ratio "$(f 1 "$t2")" "$(f 1 "$dn")")x**; from launch, start-up counted for both: $(ratio "$(launch "$t1")" "$(launch "$d1")")x and $(ratio "$(launch "$t2")" "$(launch "$dn")")x; per CPU second: **$(ratio "$(f 2 "$t1")" "$(f 2 "$d1")")x** and **$(ratio "$(f 2 "$t2")" "$(f 2 "$dn")")x**.

Lakes written: ingest (2 processes, compaction off, so one file per batch and lake partition) $(size_of "$state/lake2"); DuckDB $(size_of "$state/duck"). ZSTD at level 1 for ingest, DuckDB's default for DuckDB.

Freshness (event sent by the simulator -> its file committed), $(echo "$fresh" | cut -d' ' -f3) live plays: p50 $(echo "$fresh" | cut -d' ' -f1) s, p99 $(echo "$fresh" | cut -d' ' -f2) s. Peak RSS of one ingest process (VmHWM): $(($(<"$state/rss") / 1024)) MiB.
MD
