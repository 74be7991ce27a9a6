# Helpers of the flow scripts (05xx), sourced after lib.sh.
#
# run_flow is the ONE place that says how a flow is run: `topsongs flows
# run NAME`, as an outside orchestrator would (recorded in flow_runs, under
# the scheduler's lock of the flow and scope).
: "${PY:?}"

run_flow() { # NAME [--from T] [--to T] [--region R] [flags...]
	"$TOPSONGS_BIN" flows run "$@"
}

q() { psql -X -q -tA "$TOPSONGS_PG_URL" -c "$1"; }

# flows_db: a database of this script's own (lake_hours etc. hold its rows only).
flows_db() {
	local db="t$$_$RANDOM"
	psql -X -q "$TOPSONGS_PG_URL" -c "CREATE DATABASE $db" || fail "cannot create database $db"
	export TOPSONGS_PG_URL="${TOPSONGS_PG_URL%/*}/$db"
	"$TOPSONGS_BIN" db migrate >/dev/null || fail "db migrate"
}

# flows_lake: a database of this script's own, a new topic, and a lake (an
# S3 bucket when FLOWS_LAKE_KIND=s3); sets topic and lake, exports
# TOPSONGS_LAKE_URL.
flows_lake() {
	topic="$(new_topic)"
	lake="$SCRATCH/lake"
	flows_db
	if [ "${FLOWS_LAKE_KIND:-local}" = s3 ]; then
		use_minio
		lake="$(s3_lake)"
	fi
	export TOPSONGS_LAKE_URL="$lake"
}

# to_kafka TOPIC NDJSON: produces each event keyed by its user_id.
to_kafka() {
	python3 -c '
import json, sys
for line in open(sys.argv[1]):
    if line.strip():
        print(json.loads(line)["user_id"] + "\t" + line.strip())
' "$2" | kcat -P -b "$TOPSONGS_KAFKA_BROKERS" -t "$1" -K $'\t' || fail "cannot produce to $1"
}

committed_rows() { q "SELECT coalesce(sum(rows), 0) FROM ingest_files WHERE published"; }

# ingest_until N ARGS...: runs ingest until N rows are committed and
# published, then stops it (SIGTERM).
ingest_until() {
	local n="$1" pid
	shift
	"$TOPSONGS_BIN" ingest "$@" >>"$SCRATCH/ingest.log" 2>&1 &
	pid=$!
	pids_to_stop+=("$pid")
	for _ in $(seq 1 240); do
		[ "$(committed_rows)" -ge "$n" ] && break
		kill -0 "$pid" 2>/dev/null || fail "ingest died: $(tail -3 "$SCRATCH/ingest.log")"
		sleep 0.25
	done
	[ "$(committed_rows)" -ge "$n" ] || fail "ingest committed $(committed_rows) of $n rows"
	kill -TERM "$pid"
	wait "$pid" || fail "ingest exited $?"
}

# dump_tables DIR: the tables the check compares, as CSV.
dump_tables() {
	mkdir -p "$1"
	local t
	for t in \
		"songs:SELECT song_id, title, artist, genre FROM songs" \
		"plays_hourly:SELECT region, to_char(hour_start AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24'), song_id, plays FROM plays_hourly" \
		"top_songs_hourly:SELECT region, to_char(hour_start AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24'), rank, song_id, title, artist, genre, plays, previous_rank, movement, peak_rank, periods_on_chart, entry FROM top_songs_hourly" \
		"top_songs_daily:SELECT region, day, rank, song_id, title, artist, genre, plays, previous_rank, movement, peak_rank, periods_on_chart, entry FROM top_songs_daily" \
		"flow_enriched_files:SELECT path, rows, duplicates, unknown_songs FROM flow_enriched_files"; do
		psql -X -q "$TOPSONGS_PG_URL" -c "COPY (${t#*:}) TO STDOUT WITH (FORMAT csv)" >"$1/${t%%:*}.csv" ||
			fail "cannot dump ${t%%:*}"
	done
}

# s3_lake: a fresh bucket on the test MinIO (call use_minio first); prints
# its lake URL.
s3_lake() {
	local bucket="t05-$$-$RANDOM"
	MINIO_ROOT_USER="$TOPSONGS_S3_ACCESS_KEY" MINIO_ROOT_PASSWORD="$TOPSONGS_S3_SECRET_KEY" \
		"$ROOT/scripts/minio.sh" mb "$TS_MINIO_PORT" "$bucket" >&2 || fail "cannot create the bucket"
	echo "s3://$bucket/lake"
}

# mirror_lake LAKE: a local copy of an S3 lake (DuckDB here has no httpfs);
# prints the folder to read. raw/ is copied through the bookkeeping (the
# files that hold committed rows, as the flows read it): a listing of the
# bucket can see an hour twice while ingest compacts it. A file that a
# compaction removes between the query and the copy makes it start over.
mirror_lake() {
	case "$1" in
	s3://*)
		local dir key try
		for try in 1 2 3 4 5; do
			dir="$SCRATCH/mirror.$RANDOM"
			mkdir -p "$dir"
			if { q "SELECT DISTINCT coalesce(compacted_into, path) FROM ingest_files WHERE published"
				"$TOPSONGS_BIN" store ls enriched/ --lake-url "$1" | cut -f2; } |
				while IFS= read -r key; do
					[ -n "$key" ] || continue
					mkdir -p "$dir/$(dirname "$key")"
					"$TOPSONGS_BIN" store get "$key" --lake-url "$1" --file "$dir/$key" 2>/dev/null || exit 1
				done; then
				echo "$dir"
				return 0
			fi
			rm -rf "$dir"
			sleep 1
		done
		fail "cannot mirror $1"
		;;
	*) echo "$1" ;;
	esac
}

# check_flows LAKE: enriched/ and the chart tables equal DuckDB's recomputation.
check_flows() {
	local dir="$SCRATCH/dump.$RANDOM" local_lake
	dump_tables "$dir"
	local_lake="$(mirror_lake "$1")"
	"$PY" "$(dirname "${BASH_SOURCE[0]}")/flows_check.py" "$local_lake" "$dir" || fail "flows check"
}

# no_staging LAKE: no enrich leftovers visible or staged.
no_staging() {
	[ -z "$("$TOPSONGS_BIN" store ls _staging/enrich/ --lake-url "$1")" ] ||
		fail "enrich staging leftovers: $("$TOPSONGS_BIN" store ls _staging/enrich/ --lake-url "$1" | head -3)"
}
