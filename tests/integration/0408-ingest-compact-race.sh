#!/usr/bin/env bash
# A late file committed while another ingest compacts its (closed) hour: the
# compaction must not name its merge as the holder of a file it did not
# merge. Ingest A commits a late play and is killed (failpoint) before it
# publishes; ingest B, waiting for A's partitions, compacts the hour
# meanwhile, then publishes A's file. Every committed file is then held by a
# file that has its rows (enrich checks that), and the hour ends up compacted
# into one file.
#
# A_FAILPOINT moves A's death to just after its rename into the hour folder
# (ingest.renamed: the file is in the folder but not marked published, so
# B's compaction merges it); B_FAILPOINT kills B too (compact.swapped: after
# the merge, before its bookkeeping), and a third ingest C publishes with
# compaction off before B's successor compacts. 0409 and 0410 run those
# variants.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/flows_lib.sh"

flows_lake
args=(--kafka-topic "$topic" --ingest-group "g-$topic" --ingest-dlq-topic "$topic-dlq"
	--lake-url "$lake" --ingest-flush-ms 200 --ingest-max-rows 4 --ingest-lateness-s 5
	--ingest-idle-timeout-s 1 --ingest-compact-interval-s 1 --ingest-session-timeout-ms 6000
	--ingest-metrics-listen 127.0.0.1:0)

# Twenty plays three hours ago (several files), one now to move time on.
python3 - "$SCRATCH/old.ndjson" "$SCRATCH/late.ndjson" "$SCRATCH/old-hour" <<'PY'
import datetime, json, sys
now = datetime.datetime.now(datetime.timezone.utc)
old = now.replace(minute=20, second=0, microsecond=0) - datetime.timedelta(hours=3)
with open(sys.argv[3], "w") as f:  # fixed now: the test may cross an hour
    f.write(old.strftime("%Y-%m-%d %H\n"))
def play(i, ts, tag):
    return json.dumps({"event_id": "00000000-0000-4000-8000-%s%011d" % (tag, i), "user_id": "u%d" % i,
                       "song_id": "s%06d" % (i % 4), "region": "EU",
                       "ts": ts.isoformat(timespec="milliseconds")}) + "\n"
with open(sys.argv[1], "w") as f:
    for i in range(20):
        f.write(play(i, old + datetime.timedelta(seconds=i), "1"))
    f.write(play(99, now, "2"))
with open(sys.argv[2], "w") as f:
    f.write(play(7, old + datetime.timedelta(minutes=5), "3"))
PY
read -r old_day old_hour <"$SCRATCH/old-hour"
hour_sql="region = 'EU' AND day = '$old_day' AND hour = $((10#$old_hour))"
hour_state() { q "SELECT closed_at IS NOT NULL, files, compacted_at IS NOT NULL FROM lake_hours WHERE $hour_sql"; }

to_kafka "$topic" "$SCRATCH/old.ndjson"
"$TOPSONGS_BIN" ingest "${args[@]}" >>"$SCRATCH/ingest.log" 2>&1 &
pid=$!
pids_to_stop+=("$pid")
for _ in $(seq 1 200); do
	[ "$(committed_rows)" -ge 21 ] && [ "$(hour_state)" = "t|1|t" ] && break
	sleep 0.25
done
[ "$(hour_state)" = "t|1|t" ] || fail "the old hour was not closed and compacted: $(hour_state)"
kill -TERM "$pid"
wait "$pid" || fail "ingest exited $?"

# A: commits the late play, then dies before marking it published.
to_kafka "$topic" "$SCRATCH/late.ndjson"
TS_FAILPOINT=${A_FAILPOINT:-ingest.committed:1} "$TOPSONGS_BIN" ingest "${args[@]}" >>"$SCRATCH/ingest.log" 2>&1 &
pid=$!
pids_to_stop+=("$pid")
wait "$pid" || true # killed by its failpoint
[ "$(q "SELECT count(*) FROM ingest_files WHERE NOT published")" = 1 ] ||
	fail "ingest A did not stop between commit and publish: $(tail -3 "$SCRATCH/ingest.log")"

# B: compacts the hour (two files in the bookkeeping, one in the folder)
# while the group waits for A's session to expire, then publishes A's file.
if [ -n "${B_FAILPOINT:-}" ]; then
	TS_FAILPOINT=$B_FAILPOINT "$TOPSONGS_BIN" ingest "${args[@]}" >>"$SCRATCH/ingest.log" 2>&1 &
	pid=$!
	pids_to_stop+=("$pid")
	wait "$pid" || true
	grep -q "failpoint ${B_FAILPOINT%:*}: SIGKILL" "$SCRATCH/ingest.log" ||
		fail "ingest B did not stop at $B_FAILPOINT: $(tail -3 "$SCRATCH/ingest.log")"
	# C publishes with compaction off, so it meets the file gone from the
	# folder and its row naming no merge, not a compaction that repairs it.
	"$TOPSONGS_BIN" ingest "${args[@]}" --ingest-compact-interval-s 0 >>"$SCRATCH/ingest.log" 2>&1 &
	pid=$!
	pids_to_stop+=("$pid")
	for _ in $(seq 1 240); do
		[ "$(committed_rows)" -ge 22 ] && break
		kill -0 "$pid" || break
		sleep 0.25
	done
	kill -TERM "$pid" || fail "ingest C exited: $(tail -3 "$SCRATCH/ingest.log")"
	wait "$pid" || fail "ingest C exited $?"
	[ "$(committed_rows)" -ge 22 ] || fail "ingest C did not publish the late file"
fi
"$TOPSONGS_BIN" ingest "${args[@]}" >>"$SCRATCH/ingest.log" 2>&1 &
pid=$!
pids_to_stop+=("$pid")
for _ in $(seq 1 240); do
	[ "$(committed_rows)" -ge 22 ] && [ "$(hour_state)" = "t|1|t" ] && break
	sleep 0.25
done
kill -0 "$pid" || fail "ingest exited: $(tail -3 "$SCRATCH/ingest.log")"
[ "$(committed_rows)" -ge 22 ] || fail "the late file was not published: $(tail -3 "$SCRATCH/ingest.log")"
[ "$(hour_state)" = "t|1|t" ] || fail "the hour with the late file was not compacted again: $(hour_state)"
kill -TERM "$pid"
wait "$pid" || fail "ingest exited $?"

# Every committed row is held by a file with its rows (the bookkeeping is
# what S3 compaction and the flows read by)...
q "SELECT coalesce(compacted_into, path), kafka_partition, first_offset, last_offset, rows FROM ingest_files" |
	while IFS='|' read -r holder part first last rows; do
		"$TOPSONGS_BIN" parquet cat "$lake/$holder" --columns kafka_partition,kafka_offset |
			python3 -c '
import json, sys
part, first, last, rows = map(int, sys.argv[1:5])
got = sum(1 for r in map(json.loads, sys.stdin) if r["kafka_partition"] == part and first <= r["kafka_offset"] <= last)
sys.exit("%s holds %d of the %d rows of partition %d, offsets %d-%d" % (sys.argv[5], got, rows, part, first, last) if got != rows else 0)
' "$part" "$first" "$last" "$rows" "$holder" || exit 1
	done || fail "the bookkeeping names a holder without the rows"
# ...and enrich, which checks each input's row count against its holder.
run_flow enrich >"$SCRATCH/flows.log" 2>&1 || fail "enrich: $(tail -2 "$SCRATCH/flows.log")"
[ "$(q "SELECT sum(rows) FROM flow_enriched_files")" = 22 ] || fail "enriched/ holds $(q "SELECT sum(rows) FROM flow_enriched_files") of 22 plays"
echo "ok: a file committed during a compaction kept its own holder; 22 plays enriched"
