#!/usr/bin/env bash
# Idleness: plays arrive on one Kafka partition only. Without an idleness
# timeout the five silent partitions hold every hour open; with one, their
# watermarks follow the clock once they are caught up and quiet, and the past
# hours close — while the current hour stays open.
. "$(dirname "$0")/lib.sh"

topic="$(new_topic)"
db="t$$_$RANDOM"
psql -X -q "$TOPSONGS_PG_URL" -c "CREATE DATABASE $db" || fail "cannot create database $db"
export TOPSONGS_PG_URL="${TOPSONGS_PG_URL%/*}/$db"
q() { psql -X -q -tA "$TOPSONGS_PG_URL" -c "$1"; }

# 200 plays of one listener (one key, so one partition), 3 to 2 hours ago.
python3 - >"$SCRATCH/plays.tsv" <<'PY'
import datetime, json, uuid
now = datetime.datetime.now(datetime.timezone.utc)
for i in range(200):
    ts = now - datetime.timedelta(hours=3) + datetime.timedelta(seconds=36 * i)
    ev = {"event_id": str(uuid.uuid4()), "user_id": "u1", "song_id": "s1", "region": "EU",
          "ts": ts.isoformat(timespec="milliseconds")}
    print("u1\t" + json.dumps(ev))
PY
kcat -P -b "$TOPSONGS_KAFKA_BROKERS" -t "$topic" -K $'\t' <"$SCRATCH/plays.tsv" || fail "cannot produce"
[ "$(kcat -L -b "$TOPSONGS_KAFKA_BROKERS" -t "$topic" | grep -c 'partition [0-9]*,')" -gt 1 ] ||
	fail "the topic has one partition: the test would prove nothing"

args=(--kafka-topic "$topic" --ingest-group "g-$topic" --ingest-dlq-topic "$topic-dlq" --lake-url "$SCRATCH/lake"
	--ingest-flush-ms 200 --ingest-lateness-s 60 --ingest-metrics-listen 127.0.0.1:0)
run_ingest() { # SECONDS IDLE-TIMEOUT
	"$TOPSONGS_BIN" ingest "${args[@]}" --ingest-idle-timeout-s "$2" >>"$SCRATCH/ingest.log" 2>&1 &
	local pid=$!
	pids_to_stop+=("$pid")
	sleep "$1"
	kill -TERM "$pid"
	wait "$pid" || fail "ingest exited $?: $(tail -5 "$SCRATCH/ingest.log")"
}

run_ingest 8 0
[ "$(q "SELECT coalesce(sum(rows), 0) FROM lake_hours")" = 200 ] || fail "not every play was filed"
[ "$(q "SELECT count(*) FROM lake_hours WHERE closed_at IS NOT NULL")" = 0 ] ||
	fail "hours closed although silent partitions hold them open"
[ "$(q "SELECT count(*) FROM ingest_offsets WHERE topic = '$topic' AND watermark IS NULL")" -ge 1 ] ||
	fail "expected partitions without a watermark"

# Now with a 2-second idleness timeout: the past hours close.
"$TOPSONGS_BIN" ingest "${args[@]}" --ingest-idle-timeout-s 2 >>"$SCRATCH/ingest.log" 2>&1 &
pid=$!
pids_to_stop+=("$pid")
for _ in $(seq 1 80); do
	[ "$(q "SELECT count(*) FROM lake_hours WHERE closed_at IS NULL")" = 0 ] && break
	sleep 0.25
done
[ "$(q "SELECT count(*) FROM lake_hours WHERE closed_at IS NULL")" = 0 ] ||
	fail "past hours still open with an idleness timeout: $(q "SELECT region, day, hour, closed_at FROM lake_hours")"
[ "$(q "SELECT count(*) FROM ingest_offsets WHERE topic = '$topic' AND watermark IS NULL")" = 0 ] ||
	fail "a partition still has no watermark"
# The current hour is never closed by the clock: a play for it stays open.
now="$(date -u +%Y-%m-%dT%H:%M:%S.000Z)"
printf 'u2\t{"event_id":"%s","user_id":"u2","song_id":"s2","region":"EU","ts":"%s"}\n' \
	"$(python3 -c 'import uuid; print(uuid.uuid4())')" "$now" |
	kcat -P -b "$TOPSONGS_KAFKA_BROKERS" -t "$topic" -K $'\t' || fail "cannot produce"
for _ in $(seq 1 40); do
	[ "$(q "SELECT coalesce(sum(rows), 0) FROM lake_hours")" = 201 ] && break
	sleep 0.25
done
sleep 6 # longer than the idleness timeout and its 5-second step
[ "$(q "SELECT count(*) FROM lake_hours WHERE closed_at IS NULL AND day = '${now:0:10}' AND hour = ${now:11:2}")" = 1 ] ||
	fail "the current hour was closed: $(q "SELECT region, day, hour, closed_at FROM lake_hours")"
kill -TERM "$pid"
wait "$pid" || fail "ingest exited $?"
echo "ok: silent partitions held the hours open until the idleness timeout, then the past hours closed and the current one stayed open"
