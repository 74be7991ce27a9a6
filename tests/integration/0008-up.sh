#!/usr/bin/env bash
# `topsongs up` from a clean state: the api becomes ready, plays reach the
# lake and the charts (served by the api), `topsongs check` passes; a child killed with SIGKILL is restarted and
# plays keep flowing; SIGINT stops every child, and no child is left (by PID).
. "$(dirname "$0")/lib.sh"
: "${PY:?}"

topic="$(new_topic)"
db="t$$_$RANDOM"
psql -X -q "$TOPSONGS_PG_URL" -c "CREATE DATABASE $db" || fail "cannot create database $db"
export TOPSONGS_PG_URL="${TOPSONGS_PG_URL%/*}/$db"
port="$(free_port)"
mport="$(free_port)"
export TOPSONGS_API_LISTEN="127.0.0.1:$port" TOPSONGS_INGEST_METRICS_LISTEN="127.0.0.1:$mport"
export TOPSONGS_KAFKA_TOPIC="$topic" TOPSONGS_INGEST_GROUP="g-$topic" TOPSONGS_INGEST_DLQ_TOPIC="$topic-dlq"
export TOPSONGS_LAKE_URL="$SCRATCH/lake" TOPSONGS_INGEST_FLUSH_MS=300
# A back-fill of 24 hours at 1 play/s (about 86,000 plays), then live at 1/s.
"$TOPSONGS_BIN" up --state "$SCRATCH/state" --rate 1 >"$SCRATCH/up.log" 2>&1 &
up=$!
pids_to_stop+=("$up")

rows() { psql -X -q -tA "$TOPSONGS_PG_URL" -c "SELECT coalesce(sum(rows), 0) FROM ingest_files" 2>/dev/null || echo 0; }
child_pid() { sed -n "s/^up: $1 started (pid \([0-9]*\)).*/\1/p" "$SCRATCH/up.log" | tail -n 1; }

for _ in $(seq 1 300); do
	curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
	kill -0 "$up" 2>/dev/null || fail "up exited: $(cat "$SCRATCH/up.log")"
	sleep 0.1
done
grep -q "dashboard    http://127.0.0.1:$port/" "$SCRATCH/up.log" || sleep 1
grep -q "dashboard    http://127.0.0.1:$port/" "$SCRATCH/up.log" || fail "no dashboard URL printed: $(cat "$SCRATCH/up.log")"

# The back-fill finishes and is not repeated; plays reach the lake.
for _ in $(seq 1 240); do
	grep -q '^up: backfill finished' "$SCRATCH/up.log" && [ "$(rows)" -ge 50000 ] && break
	sleep 0.5
done
grep -q '^up: backfill finished' "$SCRATCH/up.log" || fail "the back-fill did not finish: $(tail -5 "$SCRATCH/state/log/backfill.log")"
[ "$(rows)" -ge 50000 ] || fail "only $(rows) rows in the lake after the back-fill"
[ -e "$SCRATCH/state/backfill.done" ] || fail "no back-fill marker"
# The scheduler's flows fill the charts, with the simulator's songs.
charts() { psql -X -q -tA "$TOPSONGS_PG_URL" -c "SELECT count(*) FROM top_songs_hourly WHERE region = 'ALL' AND title IS NOT NULL" 2>/dev/null || echo 0; }
for _ in $(seq 1 240); do
	[ "$(charts)" -ge 100 ] && break
	sleep 0.5
done
[ "$(charts)" -ge 100 ] || fail "the hourly charts did not fill: $(charts) rows; $(tail -5 "$SCRATCH/state/log/scheduler.log")"
# The day that holds the moment twelve hours ago has at least twelve back-filled
# hours whatever the time of day (just after midnight, today has only minutes).
# The hourly charts above may all be yesterday's: the day's own back-filled
# hours can still be on their way through enrich and aggregate, so wait.
day="$(date -u -d '12 hours ago' +%F)"
day_chart_full() {
	curl -fs "http://127.0.0.1:$port/api/top?region=ALL&period=day&at=$day" >"$SCRATCH/top.json" &&
		"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d["entries"]) == 10 and d["entries"][0]["title"], d' \
			"$SCRATCH/top.json" 2>/dev/null
}
full=0
for _ in $(seq 1 240); do
	day_chart_full && full=1 && break
	sleep 0.5
done
[ "$full" = 1 ] || fail "the daily chart is not served: $(head -c 300 "$SCRATCH/top.json")"
"$TOPSONGS_BIN" check --check-required postgres,kafka,lake,api,scheduler >"$SCRATCH/check.txt" 2>&1 ||
	fail "check failed under up: $(cat "$SCRATCH/check.txt")"

# SIGKILL the ingest child: it is restarted and the lake keeps growing.
old="$(child_pid ingest)"
[ -n "$old" ] || fail "no ingest pid in: $(cat "$SCRATCH/up.log")"
kill -9 "$old"
for _ in $(seq 1 100); do
	new="$(child_pid ingest)"
	[ -n "$new" ] && [ "$new" != "$old" ] && break
	sleep 0.1
done
[ "$new" != "$old" ] || fail "ingest was not restarted: $(cat "$SCRATCH/up.log")"
grep -q "^up: ingest (pid $old) killed by signal 9" "$SCRATCH/up.log" || fail "the kill was not reported"
before="$(rows)"
for _ in $(seq 1 240); do
	[ "$(rows)" -gt "$before" ] && break
	sleep 0.25
done
[ "$(rows)" -gt "$before" ] || fail "no plays reached the lake after the restart"

# SIGINT stops everything, newest first, and leaves no child behind.
children="$(sed -n 's/^up: .* started (pid \([0-9]*\)).*/\1/p' "$SCRATCH/up.log" | sort -u)"
kill -INT "$up"
wait "$up" || fail "up exited $? on SIGINT: $(tail -5 "$SCRATCH/up.log")"
for p in $children; do
	! kill -0 "$p" 2>/dev/null || fail "child $p outlived up: $(ps -o pid,args -p "$p")"
done
grep -q '^up: stopped' "$SCRATCH/up.log" || fail "no clean stop reported"

# Run again: it resumes without a second back-fill.
"$TOPSONGS_BIN" up --state "$SCRATCH/state" --rate 1 >"$SCRATCH/up2.log" 2>&1 &
up=$!
pids_to_stop+=("$up")
for _ in $(seq 1 100); do
	grep -q 'Top Songs is running' "$SCRATCH/up2.log" && break
	sleep 0.1
done
grep -q 'backfill started' "$SCRATCH/up2.log" && fail "the back-fill ran twice"
kill -INT "$up"
wait "$up" || fail "second up exited $?"
echo "ok: up ran the pipeline, restarted a killed ingest, stopped cleanly and resumed without a second back-fill"
