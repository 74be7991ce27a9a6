#!/usr/bin/env bash
# enrich and aggregate over a simulated stream with client retries
# (duplicate event_ids), unknown songs and late plays, run incrementally while
# ingest writes and compacts the lake: enriched/ equals DuckDB's dedup+join
# over raw/, and plays_hourly, top_songs_hourly and top_songs_daily equal an
# independent recomputation over enriched/ after every phase; late plays into
# hours compacted twice are read through compacted_into; closed hours become
# final; a from-scratch re-run gives the same tables.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/flows_lib.sh"

flows_lake
args=(--kafka-topic "$topic" --ingest-group "g-$topic" --ingest-dlq-topic "$topic-dlq"
	--lake-url "$lake" --ingest-flush-ms 300 --ingest-max-rows 500 --ingest-lateness-s 60
	--ingest-compact-interval-s 1 --ingest-metrics-listen 127.0.0.1:0)

"$TOPSONGS_BIN" catalog load --songs 300 --catalog-seed 7 >/dev/null || fail "catalog load"
"$TOPSONGS_BIN" simulate --out "$SCRATCH/sim.ndjson" --from -5h --songs 300 --catalog-seed 7 \
	--rate 0.6 --retry-share 0.05 --seed 11 --quiet || fail "simulate"
# Plays of songs the catalog lacks, and retries sent much later than the
# original (still the same event, so the same region and hour).
python3 - "$SCRATCH/sim.ndjson" "$SCRATCH/part1.ndjson" "$SCRATCH/part2.ndjson" <<'PY'
import json, random, sys
rnd = random.Random(4)
evs = [json.loads(l) for l in open(sys.argv[1])]
# Unknown ids that an array literal or COPY would take apart unless escaped.
unknown = ["zz-unknown-0", 'zz "quoted" \\ back', "zz,{braces},comma", "zz \u00e9t\u00e9", "NULL"]
for i in range(0, len(evs), 97):
    e = dict(evs[i], event_id="00000000-0000-4000-8000-%012d" % i, song_id=unknown[i % 5])
    evs.insert(i + 1, e)
cut = len(evs) * 6 // 10
part1, part2 = evs[:cut], evs[cut:]
part2 += [dict(e) for e in rnd.sample(part1, 40)]  # late retries of part-1 events
for path, part in ((sys.argv[2], part1), (sys.argv[3], part2)):
    with open(path, "w") as f:
        for e in part:
            f.write(json.dumps(e) + "\n")
PY
n1=$(wc -l <"$SCRATCH/part1.ndjson")
n2=$(wc -l <"$SCRATCH/part2.ndjson")

# Phase 1: part 1 ingested, then one run of each flow.
to_kafka "$topic" "$SCRATCH/part1.ndjson"
ingest_until "$n1" "${args[@]}"
run_flow enrich >"$SCRATCH/flows.log" 2>&1 || fail "enrich: $(tail -3 "$SCRATCH/flows.log")"
run_flow aggregate >>"$SCRATCH/flows.log" 2>&1 || fail "aggregate: $(tail -3 "$SCRATCH/flows.log")"
check_flows "$lake"

# Phase 2: part 2 while ingest runs and compacts; the flows run meanwhile.
to_kafka "$topic" "$SCRATCH/part2.ndjson"
"$TOPSONGS_BIN" ingest "${args[@]}" >>"$SCRATCH/ingest.log" 2>&1 &
ipid=$!
pids_to_stop+=("$ipid")
for _ in $(seq 1 6); do
	run_flow enrich >>"$SCRATCH/flows.log" 2>&1 || fail "enrich: $(tail -3 "$SCRATCH/flows.log")"
	run_flow aggregate >>"$SCRATCH/flows.log" 2>&1 || fail "aggregate: $(tail -3 "$SCRATCH/flows.log")"
	sleep 0.3
done
for _ in $(seq 1 240); do
	[ "$(committed_rows)" -ge $((n1 + n2)) ] && break
	sleep 0.25
done
[ "$(committed_rows)" -ge $((n1 + n2)) ] || fail "ingest committed $(committed_rows) of $((n1 + n2))"
for _ in $(seq 1 120); do
	[ "${FLOWS_LAKE_KIND:-local}" = s3 ] && break
	[ "$(q "SELECT count(*) FROM lake_hours WHERE closed_at IS NOT NULL AND files > 1")" = 0 ] && break
	sleep 0.25
done
run_flow enrich >>"$SCRATCH/flows.log" 2>&1 || fail "enrich: $(tail -3 "$SCRATCH/flows.log")"
run_flow aggregate >>"$SCRATCH/flows.log" 2>&1 || fail "aggregate: $(tail -3 "$SCRATCH/flows.log")"
check_flows "$lake"
[ "$(q "SELECT sum(unknown_songs) FROM flow_enriched_files")" -gt 0 ] || fail "no unknown song counted"
[ "$(q "SELECT sum(duplicates) FROM flow_enriched_files")" -ge 40 ] || fail "retries not dropped"

# Phase 3: late plays for an hour 4 hours back (closed and compacted), in two
# rounds each compacted before the flows run: the first round's files then
# point (compacted_into) at a file the second compaction replaced.
# Fixed once: the test may cross an hour.
late_hour="$(q "SELECT to_char(date_trunc('hour', now() AT TIME ZONE 'UTC') - interval '4 hours', 'YYYY-MM-DD\"T\"HH24:00:00+00:00')")"
late_hour_sql="'$late_hour'::timestamptz"
# The region with the most plays in that hour (a region without any would
# get its lake hour opened by the late plays themselves: not late).
late_region="$(q "SELECT region FROM lake_hours WHERE (day + make_interval(hours => hour)) AT TIME ZONE 'UTC' = $late_hour_sql ORDER BY rows DESC LIMIT 1")"
[ -n "$late_region" ] || fail "no plays 4 hours ago"
before="$(q "SELECT coalesce(sum(plays), 0) FROM plays_hourly WHERE region = '$late_region' AND hour_start = $late_hour_sql")"
t0="$(q "SELECT now()")"
# (Retries of old plays in part 2 may have been late already.)
late_before="$(q "SELECT late_rows FROM lake_hours WHERE region = '$late_region' AND day + make_interval(hours => hour) = ($late_hour_sql) AT TIME ZONE 'UTC'")"
late_holders() { q "SELECT count(DISTINCT coalesce(compacted_into, path)) FROM ingest_files WHERE region = '$late_region' AND day + make_interval(hours => hour) = ($late_hour_sql) AT TIME ZONE 'UTC'"; }
for round in 1 2; do
	python3 - "$SCRATCH/late$round.ndjson" "$round" "$late_region" "$late_hour" <<'PY'
import datetime, json, sys
ts = datetime.datetime.fromisoformat(sys.argv[4]) + datetime.timedelta(minutes=30)
with open(sys.argv[1], "w") as f:
    for i in range(15):
        f.write(json.dumps({"event_id": "00000000-0000-4000-9000-%06d%06d" % (int(sys.argv[2]), i), "user_id": "late%d" % i,
                            "song_id": "s%06d" % (i % 3), "region": sys.argv[3],
                            "ts": ts.isoformat(timespec="milliseconds")}) + "\n")
PY
	to_kafka "$topic" "$SCRATCH/late$round.ndjson"
	"$TOPSONGS_BIN" ingest "${args[@]}" >>"$SCRATCH/ingest.log" 2>&1 &
	lpid=$!
	pids_to_stop+=("$lpid")
	# Until the round's plays are committed and the late hour is compacted
	# again, its files all held by one merged file (a late file committed
	# while the hour is being compacted waits for the next round).
	for _ in $(seq 1 120); do
		[ "$(committed_rows)" -ge $((n1 + n2 + 15 * round)) ] &&
			[ "$(q "SELECT count(*) FROM lake_hours WHERE closed_at IS NOT NULL AND files > 1")" = 0 ] &&
			[ "$(late_holders)" = 1 ] && break
		sleep 0.25
	done
	kill -TERM "$lpid"
	wait "$lpid" || fail "ingest exited $?"
	[ "$(q "SELECT count(*) FROM lake_hours WHERE closed_at IS NOT NULL AND files > 1")" = 0 ] ||
		fail "late hour not compacted"
done
kill -TERM "$ipid" 2>/dev/null || true
wait "$ipid" 2>/dev/null || true
late_rows() { q "SELECT late_rows FROM lake_hours WHERE region = '$late_region' AND day + make_interval(hours => hour) = ($late_hour_sql) AT TIME ZONE 'UTC'"; }
[ "$(late_rows)" = $((late_before + 30)) ] || fail "the late plays were not filed as late"
run_flow enrich >>"$SCRATCH/flows.log" 2>&1 || fail "enrich: $(tail -3 "$SCRATCH/flows.log")"
# The late hour was compacted twice; the bookkeeping still names, for each
# of its committed files, the one file that now holds its rows, so enrich
# reads exactly those (the whole-folder fallback is only for a file that
# vanishes under a compaction between listing and reading).
q "SELECT DISTINCT coalesce(compacted_into, path) FROM ingest_files WHERE region = '$late_region' AND day + make_interval(hours => hour) = ($late_hour_sql) AT TIME ZONE 'UTC'" >"$SCRATCH/holders"
[ "$(wc -l <"$SCRATCH/holders")" = 1 ] || fail "the late hour is held by $(wc -l <"$SCRATCH/holders") files after compaction"
"$TOPSONGS_BIN" store get "$(cat "$SCRATCH/holders")" --lake-url "$lake" --file "$SCRATCH/holder.parquet" ||
	fail "compacted_into names a missing file: $(cat "$SCRATCH/holders")"
run_flow aggregate >>"$SCRATCH/flows.log" 2>&1 || fail "aggregate: $(tail -3 "$SCRATCH/flows.log")"
after="$(q "SELECT sum(plays) FROM plays_hourly WHERE region = '$late_region' AND hour_start = $late_hour_sql")"
[ "$after" = $((before + 30)) ] || fail "late hour: $before plays before, $after after (expected +30)"
# Exactly the touched periods are rewritten: nothing before the late hour,
# nothing of another region at the late hour (later periods only where a
# fact changed).
[ "$(q "SELECT count(*) FROM top_songs_hourly WHERE updated_at > '$t0' AND (hour_start < $late_hour_sql OR (hour_start = $late_hour_sql AND region NOT IN ('$late_region', 'ALL')))")" = 0 ] ||
	fail "late plays rewrote periods they do not touch"
[ "$(q "SELECT count(*) FROM top_songs_hourly WHERE updated_at > '$t0' AND hour_start = $late_hour_sql AND region = '$late_region'")" -ge 1 ] ||
	fail "the late hour's chart was not recomputed"
check_flows "$lake"

# Finality: every charted hour the lake closed is final, the open ones not.
[ "$(q "SELECT count(*) FROM top_songs_hourly t WHERE region <> 'ALL' AND is_final <> EXISTS (SELECT 1 FROM lake_hours l WHERE l.region = t.region AND l.day + make_interval(hours => l.hour) = t.hour_start AT TIME ZONE 'UTC' AND l.closed_at IS NOT NULL)")" = 0 ] ||
	fail "is_final disagrees with lake_hours"
[ "$(q "SELECT count(*) FROM top_songs_hourly WHERE is_final AND region = 'ALL'")" -gt 0 ] || fail "no final ALL hour"
[ "$(q "SELECT count(*) FROM top_songs_hourly WHERE is_final AND hour_start = date_trunc('hour', now())")" = 0 ] ||
	fail "the current hour is final"
no_staging "$lake"

# Phase 4: from scratch — charts, bookkeeping and enriched/ dropped — gives
# the same tables, even in transactions of a few hundred counts each: an
# hour's files split over batches, its counts merged into the rows the
# earlier batches wrote, its day ranked again in SQL.
dump_tables "$SCRATCH/first"
q "DELETE FROM top_songs_hourly; DELETE FROM top_songs_daily; DELETE FROM plays_hourly_packed; DELETE FROM flow_enrich_inputs; DELETE FROM flow_enriched_files" >/dev/null
"$TOPSONGS_BIN" store ls enriched/ | cut -f2 | while IFS= read -r k; do "$TOPSONGS_BIN" store rm "$k"; done
[ -z "$("$TOPSONGS_BIN" store ls enriched/)" ] || fail "enriched/ not emptied"
run_flow enrich >>"$SCRATCH/flows.log" 2>&1 || fail "enrich: $(tail -3 "$SCRATCH/flows.log")"
TOPSONGS_FLOWS_AGGREGATE_MAX_COUNTS=300 run_flow aggregate >"$SCRATCH/small.log" 2>&1 ||
	fail "aggregate: $(tail -3 "$SCRATCH/small.log")"
batches=$(grep -c "aggregated files=" "$SCRATCH/small.log" || true)
[ "$batches" -gt 10 ] || fail "aggregate took $batches transactions at 300 counts each"
dump_tables "$SCRATCH/second"
for t in plays_hourly top_songs_hourly top_songs_daily; do
	cmp -s <(sort "$SCRATCH/first/$t.csv") <(sort "$SCRATCH/second/$t.csv") || fail "$t differs after a from-scratch re-run"
done
check_flows "$lake"
# flow_raw_pending (migration 14) holds exactly the raw files without a
# flow_enrich_inputs row, through every phase above; after a TRUNCATE of
# flow_enrich_inputs, every raw file.
pending_wrong="SELECT count(*) FROM ingest_files f WHERE EXISTS (SELECT 1 FROM flow_raw_pending p WHERE p.path = f.path) = EXISTS (SELECT 1 FROM flow_enrich_inputs i WHERE i.raw_path = f.path)"
[ "$(q "$pending_wrong")" = 0 ] || fail "flow_raw_pending disagrees with flow_enrich_inputs"
[ "$(q "SELECT count(*) FROM flow_enrich_inputs")" -gt 0 ] || fail "no raw file enriched"
[ "$(q "BEGIN; TRUNCATE flow_enrich_inputs; $pending_wrong; ROLLBACK" | grep -v '^$' | head -1)" = 0 ] ||
	fail "flow_raw_pending misses raw files after a TRUNCATE of flow_enrich_inputs"
echo "ok ($lake): $((n1 + n2 + 30)) plays; charts exact after incremental runs, late plays and a from-scratch re-run"
