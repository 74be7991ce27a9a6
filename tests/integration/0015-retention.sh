#!/usr/bin/env bash
# `topsongs retention` on a local lake and on S3 (MinIO): hours older than
# the kept time leave the lake and the bookkeeping, newer ones and the
# charts stay as they were; an hour whose plays are not yet in the charts is
# kept; --dry-run changes nothing; a run killed right after an hour's commit
# is finished by the next run; a second run finds nothing; the flows still
# run afterwards; keeping less than ingest.max-age-s is refused; and with
# ingest filing late plays into the old hours while retention runs again and
# again, rows and files stay together.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/flows_lib.sh"

# keys LAKE TOP: every object under TOP/ (raw, enriched), one per line
keys() { "$TOPSONGS_BIN" store ls "$2/" --lake-url "$1" | cut -f2 | sort; }

# old_keys LAKE: keys of hours that ended by the cut-off ($cutoff, "YYYY-MM-DD HH")
old_keys() {
	{ keys "$1" raw; keys "$1" enriched; } | python3 -c '
import re, sys
cut = sys.argv[1]
for k in sys.stdin:
    m = re.search(r"date=(\d{4}-\d\d-\d\d)/hour=(\d\d)/", k)
    if m and "%s %s" % m.groups() < cut:
        print(k.strip())' "$cutoff"
}

charts() {
	q "SELECT region, hour_start, song_id, plays FROM plays_hourly ORDER BY 1, 2, 3"
	q "SELECT region, hour_start, rank, song_id, plays, peak_rank FROM top_songs_hourly ORDER BY 1, 2, 3"
	q "SELECT region, day, rank, song_id, plays FROM top_songs_daily ORDER BY 1, 2, 3"
}

old_rows() { # bookkeeping rows of hours before the cut-off, but for HOUR (date=D/hour=H) of EU
	local w="to_char(day, 'YYYY-MM-DD') || ' ' || to_char(hour, 'FM00') < '$cutoff'"
	local keep="${1:-none}" k
	k="NOT (region = 'EU' AND 'date=' || to_char(day, 'YYYY-MM-DD') || '/hour=' || to_char(hour, 'FM00') = '$keep')"
	q "SELECT (SELECT count(*) FROM ingest_files WHERE $w AND $k) + (SELECT count(*) FROM lake_hours WHERE $w AND $k)
	   + (SELECT count(*) FROM flow_enriched_files WHERE $w AND $k)
	   + (SELECT count(*) FROM flow_enrich_inputs WHERE raw_path NOT IN (SELECT path FROM ingest_files))"
}

# The cut-off follows the clock by whole hours: a scenario that straddled
# an hour's end would see its second run prune one hour more. So it starts
# 2 minutes or more before an hour ends (it takes well under one).
clear_of_hour_end() {
	while [ $(($(date +%s) % 3600)) -ge 3480 ]; do sleep 5; done
}

scenario() {
	local kind="$1" n extra before after out
	clear_of_hour_end
	FLOWS_LAKE_KIND="$kind" flows_lake
	echo "== $kind lake: $lake"
	args=(--kafka-topic "$topic" --ingest-group "g-$topic" --ingest-dlq-topic "$topic-dlq"
		--lake-url "$lake" --ingest-flush-ms 300 --ingest-max-age-s 21600 --ingest-lateness-s 60
		--ingest-compact-interval-s 1 --ingest-metrics-listen 127.0.0.1:0)
	"$TOPSONGS_BIN" catalog load --songs 200 --catalog-seed 3 >/dev/null || fail "catalog load"
	"$TOPSONGS_BIN" simulate --out "$SCRATCH/sim.ndjson" --from -5h --songs 200 --catalog-seed 3 \
		--rate 0.1 --seed 5 --quiet || fail "simulate"
	n=$(wc -l <"$SCRATCH/sim.ndjson")
	to_kafka "$topic" "$SCRATCH/sim.ndjson"
	ingest_until "$n" "${args[@]}"
	run_flow enrich >"$SCRATCH/flows.log" 2>&1 || fail "enrich: $(tail -3 "$SCRATCH/flows.log")"
	run_flow aggregate >>"$SCRATCH/flows.log" 2>&1 || fail "aggregate: $(tail -3 "$SCRATCH/flows.log")"

	# Late plays into an old EU hour, ingested but not yet enriched: that
	# hour has work the charts lack, so retention must keep it.
	python3 - "$SCRATCH/late.ndjson" <<'PY'
import datetime, json, sys, uuid
t = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=4, minutes=30)
with open(sys.argv[1], "w") as f:
    for i in range(20):
        f.write(json.dumps({"event_id": str(uuid.uuid4()), "user_id": "late%d" % i, "song_id": "s1",
                            "region": "EU", "ts": t.isoformat(timespec="milliseconds")}) + "\n")
PY
	extra=$(wc -l <"$SCRATCH/late.ndjson")
	pending_hour="$(python3 -c 'import datetime; t=datetime.datetime.now(datetime.timezone.utc)-datetime.timedelta(hours=4, minutes=30); print(t.strftime("date=%Y-%m-%d/hour=%H"))')"
	to_kafka "$topic" "$SCRATCH/late.ndjson"
	ingest_until $((n + extra)) "${args[@]}"

	# The cut-off of --keep-hours 3: the start of the hour three hours ago.
	cutoff="$(python3 -c 'import datetime; t=datetime.datetime.now(datetime.timezone.utc)-datetime.timedelta(hours=3); print(t.strftime("%Y-%m-%d %H"))')"
	export TOPSONGS_INGEST_MAX_AGE_S=3600 # the pipeline's setting, as retention reads it
	before="$(charts)"
	keys "$lake" raw >"$SCRATCH/raw.before"
	keys "$lake" enriched >"$SCRATCH/enriched.before"
	[ -n "$(old_keys "$lake")" ] || fail "the set-up left no hour older than the cut-off $cutoff"
	[ "$(old_rows)" -gt 0 ] || fail "the set-up left no bookkeeping before $cutoff"

	# Keeping less than ingest.max-age-s is refused, and changes nothing.
	set +e
	TOPSONGS_INGEST_MAX_AGE_S=21600 "$TOPSONGS_BIN" retention --keep-hours 3 >"$SCRATCH/out" 2>&1
	[ $? -eq 2 ] || fail "keep < ingest.max-age-s: expected exit 2: $(cat "$SCRATCH/out")"
	set -e
	grep -q "ingest.max-age-s" "$SCRATCH/out" || fail "no reason given: $(cat "$SCRATCH/out")"

	# --dry-run lists the hours and changes nothing.
	"$TOPSONGS_BIN" retention --keep-hours 3 --dry-run >"$SCRATCH/dry" 2>&1 || fail "dry run: $(cat "$SCRATCH/dry")"
	grep -q "would prune" "$SCRATCH/dry" || fail "dry run lists nothing: $(cat "$SCRATCH/dry")"
	grep -q "kept: not yet in the charts" "$SCRATCH/dry" || fail "dry run misses the pending hour: $(cat "$SCRATCH/dry")"
	keys "$lake" raw | cmp -s - "$SCRATCH/raw.before" || fail "dry run changed raw/"
	keys "$lake" enriched | cmp -s - "$SCRATCH/enriched.before" || fail "dry run changed enriched/"
	[ -z "$(q "SELECT 1 FROM lake_pruned")" ] || fail "dry run wrote lake_pruned"

	# Killed (SIGKILL) right after committing its second hour: rows gone,
	# files still there, recorded as unfinished.
	set +e
	TS_FAILPOINT=retention.committed:2 "$TOPSONGS_BIN" retention --keep-hours 3 >"$SCRATCH/out" 2>&1
	rc=$?
	set -e
	[ "$rc" -eq 137 ] || fail "failpoint: expected a SIGKILL (137), got $rc: $(cat "$SCRATCH/out")"
	[ "$(q "SELECT count(*) FROM lake_pruned WHERE files_deleted_at IS NULL")" -eq 1 ] ||
		fail "the interrupted hour is not recorded: $(q "SELECT * FROM lake_pruned")"
	[ "$(q "SELECT count(*) FROM lake_pruned WHERE files_deleted_at IS NOT NULL")" -eq 1 ] ||
		fail "the first hour is not finished: $(q "SELECT * FROM lake_pruned")"

	# The next run finishes it and prunes the rest; the pending hour stays.
	"$TOPSONGS_BIN" retention --keep-hours 3 >"$SCRATCH/out" 2>"$SCRATCH/err" ||
		fail "retention: $(cat "$SCRATCH/out" "$SCRATCH/err")"
	cat "$SCRATCH/out"
	grep -q "1 finished from an interrupted run" "$SCRATCH/out" || fail "did not resume: $(cat "$SCRATCH/out")"
	grep -q "1 kept (not yet in the charts)" "$SCRATCH/out" || fail "pending hour: $(cat "$SCRATCH/out")"
	if grep -q $'\r' "$SCRATCH/err"; then fail "a progress line in a pipe"; fi
	old_keys "$lake" >"$SCRATCH/left"
	if grep -v "region=EU/$pending_hour/" "$SCRATCH/left"; then fail "old objects left (above)"; fi
	grep -q "raw/region=EU/$pending_hour/" "$SCRATCH/left" || fail "the pending hour's raw files are gone"
	[ "$(q "SELECT count(*) FROM lake_pruned WHERE files_deleted_at IS NULL")" -eq 0 ] ||
		fail "unfinished hours left"
	# Only the pending hour's rows remain before the cut-off.
	[ "$(old_rows "$pending_hour")" -eq 0 ] || fail "bookkeeping of pruned hours left: $(old_rows "$pending_hour")"
	[ "$(q "SELECT count(*) FROM ingest_files WHERE region = 'EU' AND 'date=' || to_char(day, 'YYYY-MM-DD') || '/hour=' || to_char(hour, 'FM00') = '$pending_hour'")" -gt 0 ] ||
		fail "the pending hour's bookkeeping is gone"
	# Newer hours untouched; the charts untouched.
	comm -23 <(grep -v "region=EU/$pending_hour/" "$SCRATCH/raw.before" | python3 -c '
import re, sys
for k in sys.stdin:
    m = re.search(r"date=(\d{4}-\d\d-\d\d)/hour=(\d\d)/", k)
    if m and "%s %s" % m.groups() >= sys.argv[1]: print(k.strip())' "$cutoff") <(keys "$lake" raw) >"$SCRATCH/lost"
	[ ! -s "$SCRATCH/lost" ] || fail "newer raw files were deleted: $(head -3 "$SCRATCH/lost")"
	after="$(charts)"
	[ "$before" = "$after" ] || fail "the charts changed"
	if [ "$kind" = local ]; then
		[ -z "$(find "$lake/raw" "$lake/enriched" -type d -empty)" ] || fail "empty folders left: $(find "$lake" -type d -empty | head -3)"
	fi

	grep -q "hour pruned" "$SCRATCH/err" || fail "no log line per pruned hour: $(head -3 "$SCRATCH/err")"

	# Idempotent: nothing more to do.
	"$TOPSONGS_BIN" retention --keep-hours 3 >"$SCRATCH/out" 2>&1 || fail "second run: $(cat "$SCRATCH/out")"
	grep -q "retention: pruned 0 hours" "$SCRATCH/out" || fail "second run pruned again: $(cat "$SCRATCH/out")"

	# The flows still run (the late plays reach the charts), and then the
	# pending hour goes too.
	run_flow enrich >>"$SCRATCH/flows.log" 2>&1 || fail "enrich after retention: $(tail -3 "$SCRATCH/flows.log")"
	run_flow aggregate >>"$SCRATCH/flows.log" 2>&1 || fail "aggregate after retention: $(tail -3 "$SCRATCH/flows.log")"
	[ "$(q "SELECT coalesce(sum(plays), 0) FROM plays_hourly WHERE region = 'EU'")" -gt 0 ] || fail "no EU plays"
	# (with log.format auto in a pipe: JSON lines, one per pruned hour)
	TOPSONGS_LOG_FORMAT=auto "$TOPSONGS_BIN" retention --keep-hours 3 >"$SCRATCH/out" 2>"$SCRATCH/json" ||
		fail "third run: $(cat "$SCRATCH/out" "$SCRATCH/json")"
	grep -q "retention: pruned 1 hours" "$SCRATCH/out" || fail "the no longer pending hour: $(cat "$SCRATCH/out")"
	python3 -c '
import json, sys
msgs = [json.loads(l)["msg"] for l in open(sys.argv[1]) if l.strip()]
assert msgs.count("retention: hour pruned") == 1, msgs' "$SCRATCH/json" ||
		fail "not one JSON log line per pruned hour: $(head -3 "$SCRATCH/json")"
	[ -z "$(old_keys "$lake")" ] || fail "old objects left: $(old_keys "$lake" | head -3)"
	[ "$(old_rows)" -eq 0 ] || fail "old bookkeeping left"

	# Under load: ingest files late plays into the old hours (--force: kept
	# time below ingest.max-age-s) while retention runs again and again. The
	# locks must keep rows and files together: afterwards every published
	# ingest_files row has its file, every raw file has its row, and the
	# flows run clean.
	python3 - "$SCRATCH/race.ndjson" <<'PY'
import datetime, json, random, sys, uuid
rnd = random.Random(9)
now = datetime.datetime.now(datetime.timezone.utc)
with open(sys.argv[1], "w") as f:
    for i in range(600):
        t = now - datetime.timedelta(seconds=rnd.randint(3 * 3600 + 900, 5 * 3600))
        f.write(json.dumps({"event_id": str(uuid.uuid4()), "user_id": "r%d" % (i % 40),
                            "song_id": "s%d" % (i % 7), "region": rnd.choice(["EU", "NA", "AS"]),
                            "ts": t.isoformat(timespec="milliseconds")}) + "\n")
PY
	local total ipid
	total=$((n + extra + $(wc -l <"$SCRATCH/race.ndjson")))
	"$TOPSONGS_BIN" ingest "${args[@]}" --ingest-flush-ms 100 --ingest-max-rows 20 >>"$SCRATCH/ingest.log" 2>&1 &
	ipid=$!
	pids_to_stop+=("$ipid")
	# Two waves: the second is produced once retention has pruned an hour of
	# the first, so that ingest files into old hours while retention prunes
	# them (bounded: at most 30 rounds).
	head -n 300 "$SCRATCH/race.ndjson" >"$SCRATCH/wave1"
	tail -n +301 "$SCRATCH/race.ndjson" >"$SCRATCH/wave2"
	to_kafka "$topic" "$SCRATCH/wave1"
	: >"$SCRATCH/race.out"
	local wave2=0 after=0
	for i in $(seq 1 30); do
		run_flow enrich >>"$SCRATCH/flows.log" 2>&1 || fail "enrich in the race: $(tail -3 "$SCRATCH/flows.log")"
		run_flow aggregate >>"$SCRATCH/flows.log" 2>&1 || fail "aggregate in the race: $(tail -3 "$SCRATCH/flows.log")"
		"$TOPSONGS_BIN" retention --keep-hours 3 --force >"$SCRATCH/out" 2>&1 || fail "retention under load: $(cat "$SCRATCH/out")"
		cat "$SCRATCH/out" >>"$SCRATCH/race.out"
		if [ "$wave2" = 0 ] && grep -q "retention: pruned [1-9]" "$SCRATCH/out"; then
			to_kafka "$topic" "$SCRATCH/wave2"
			wave2=1
		elif [ "$wave2" = 1 ]; then
			after=$((after + 1))
			[ "$after" -lt 4 ] || break
		fi
	done
	[ "$wave2" = 1 ] || fail "nothing was pruned while ingest ran: $(tail -3 "$SCRATCH/race.out")"
	for _ in $(seq 1 240); do
		[ "$(q "SELECT coalesce(sum(next_offset), 0) FROM ingest_offsets WHERE topic = '$topic'")" -ge "$total" ] && break
		sleep 0.25
	done
	[ "$(q "SELECT coalesce(sum(next_offset), 0) FROM ingest_offsets WHERE topic = '$topic'")" -ge "$total" ] ||
		fail "ingest did not catch up under retention"
	"$TOPSONGS_BIN" retention --keep-hours 3 --force >"$SCRATCH/out" 2>&1 || fail "retention: $(cat "$SCRATCH/out")"
	kill -TERM "$ipid"
	wait "$ipid" || fail "ingest exited $?"
	q "SELECT DISTINCT coalesce(compacted_into, path) FROM ingest_files WHERE published" | sort >"$SCRATCH/rows"
	keys "$lake" raw >"$SCRATCH/files"
	comm -23 "$SCRATCH/rows" "$SCRATCH/files" >"$SCRATCH/missing"
	[ ! -s "$SCRATCH/missing" ] || fail "rows without files after the race: $(head -3 "$SCRATCH/missing")"
	comm -13 "$SCRATCH/rows" "$SCRATCH/files" >"$SCRATCH/orphans"
	[ ! -s "$SCRATCH/orphans" ] || fail "files without rows after the race: $(head -3 "$SCRATCH/orphans")"
	run_flow enrich >>"$SCRATCH/flows.log" 2>&1 || fail "enrich after the race: $(tail -3 "$SCRATCH/flows.log")"
	run_flow aggregate >>"$SCRATCH/flows.log" 2>&1 || fail "aggregate after the race: $(tail -3 "$SCRATCH/flows.log")"
	"$TOPSONGS_BIN" retention --keep-hours 3 --force --log-level warn >"$SCRATCH/out" 2>"$SCRATCH/err" ||
		fail "retention after the race: $(cat "$SCRATCH/out" "$SCRATCH/err")"
	if grep -q "hour pruned" "$SCRATCH/err"; then fail "info lines at --log-level warn"; fi
	[ -z "$(old_keys "$lake")" ] || fail "old objects left after the race: $(old_keys "$lake" | head -3)"
	[ "$(old_rows)" -eq 0 ] || fail "old bookkeeping left after the race"
	echo "race: $(grep -c "retention: pruned [1-9]" "$SCRATCH/race.out") of $i runs pruned hours while ingest filed into them; $(grep -c . "$SCRATCH/files") raw files, each with its row"
	unset TOPSONGS_INGEST_MAX_AGE_S
}

# Usage errors (2) and an unreachable database (3), before any work.
for bad in "--keep-days 0" "--keep-days 40 --keep-hours 1000" "" "--keep-days 40 --region XX" \
	"--keep-days 40 --region EU,NA"; do
	set +e
	# shellcheck disable=SC2086
	"$TOPSONGS_BIN" retention $bad >"$SCRATCH/out" 2>&1
	rc=$?
	set -e
	[ "$rc" -eq 2 ] || fail "retention $bad: expected exit 2, got $rc: $(cat "$SCRATCH/out")"
done
set +e
"$TOPSONGS_BIN" retention --keep-days 40 --pg-url "postgresql://nobody@127.0.0.1:$(free_port)/x" >"$SCRATCH/out" 2>&1
rc=$?
set -e
[ "$rc" -eq 3 ] || fail "retention without a database: expected exit 3, got $rc: $(cat "$SCRATCH/out")"

# Two database/lake pairs: the scenario's SQL is per database.
base_url="$TOPSONGS_PG_URL"
scenario local
export TOPSONGS_PG_URL="$base_url"
scenario s3
echo "ok"
