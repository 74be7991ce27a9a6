#!/usr/bin/env bash
# On S3 a compaction may delete a raw file between enrich's reading of the
# bookkeeping and its GET (S3 has no hour lock). enrich loads an hour's
# inputs, then pauses (test failpoint) while ingest compacts that hour and
# deletes the files it merged; enrich must read the bookkeeping again, find
# the merged file, and enrich every play once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/flows_lib.sh"

FLOWS_LAKE_KIND=s3 flows_lake
args=(--kafka-topic "$topic" --ingest-group "g-$topic" --ingest-dlq-topic "$topic-dlq"
	--lake-url "$lake" --ingest-flush-ms 200 --ingest-max-rows 4 --ingest-lateness-s 5
	--ingest-idle-timeout-s 1 --ingest-session-timeout-ms 6000 --ingest-metrics-listen 127.0.0.1:0)

# Twelve EU plays three hours ago (three files of four), one AS play now to
# move the stream's time on, so the EU hour closes.
python3 - "$SCRATCH/plays.ndjson" "$SCRATCH/old-hour" <<'PY'
import datetime, json, sys
now = datetime.datetime.now(datetime.timezone.utc)
old = now.replace(minute=20, second=0, microsecond=0) - datetime.timedelta(hours=3)
with open(sys.argv[2], "w") as f:  # fixed now: the test may cross an hour
    f.write(old.strftime("%Y-%m-%d %H\n"))
def play(i, ts, region):
    return json.dumps({"event_id": "00000000-0000-4000-8000-%012d" % i, "user_id": "u%d" % i,
                       "song_id": "s%06d" % (i % 4), "region": region,
                       "ts": ts.isoformat(timespec="milliseconds")}) + "\n"
with open(sys.argv[1], "w") as f:
    for i in range(12):
        f.write(play(i, old + datetime.timedelta(seconds=i), "EU"))
    f.write(play(99, now, "AS"))
PY
read -r old_day old_hour <"$SCRATCH/old-hour"
hour_sql="region = 'EU' AND day = '$old_day' AND hour = $((10#$old_hour))"
hour_state() { q "SELECT closed_at IS NOT NULL, files, compacted_at IS NOT NULL FROM lake_hours WHERE $hour_sql"; }

# Ingest without compaction: the EU hour closes with its files unmerged.
to_kafka "$topic" "$SCRATCH/plays.ndjson"
"$TOPSONGS_BIN" ingest "${args[@]}" --ingest-compact-interval-s 0 >>"$SCRATCH/ingest.log" 2>&1 &
pid=$!
pids_to_stop+=("$pid")
for _ in $(seq 1 200); do
	[ "$(committed_rows)" -ge 13 ] && [ "$(hour_state | cut -d'|' -f1)" = t ] && break
	sleep 0.25
done
state="$(hour_state)"
[ "${state%%|*}" = t ] && [ "$(echo "$state" | cut -d'|' -f2)" -ge 2 ] ||
	fail "the EU hour did not close with several files: $state"
kill -TERM "$pid"
wait "$pid" || fail "ingest exited $?"

# enrich loads the hour's inputs and pauses; ingest compacts the hour.
TS_FAILPOINT=enrich.read-pause:15 run_flow enrich --region EU >"$SCRATCH/flows.log" 2>&1 &
fpid=$!
pids_to_stop+=("$fpid")
sleep 2
"$TOPSONGS_BIN" ingest "${args[@]}" --ingest-compact-interval-s 1 >>"$SCRATCH/ingest.log" 2>&1 &
pid=$!
pids_to_stop+=("$pid")
for _ in $(seq 1 60); do
	[ "$(hour_state)" = "t|1|t" ] && break
	sleep 0.25
done
[ "$(hour_state)" = "t|1|t" ] || fail "the EU hour was not compacted while enrich paused: $(hour_state)"
kill -0 "$fpid" 2>/dev/null || fail "enrich ended before the compaction: $(tail -3 "$SCRATCH/flows.log")"
kill -TERM "$pid"
wait "$pid" || fail "ingest exited $?"

wait "$fpid" || fail "enrich failed after the compaction: $(tail -3 "$SCRATCH/flows.log")"
grep -q "vanished under a compaction" "$SCRATCH/flows.log" ||
	fail "enrich did not meet a vanished file; the test proves nothing: $(tail -3 "$SCRATCH/flows.log")"
[ "$(q "SELECT sum(rows) FROM flow_enriched_files")" = 12 ] ||
	fail "enriched/ holds $(q "SELECT sum(rows) FROM flow_enriched_files") of 12 EU plays"
echo "ok: enrich re-read the bookkeeping after a compaction deleted its inputs; 12 plays enriched once"
