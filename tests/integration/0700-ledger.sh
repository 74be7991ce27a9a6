#!/usr/bin/env bash
# The end-to-end ledger on a real run: simulator -> api -> Kafka -> ingest ->
# enrich -> aggregate. Afterwards `topsongs ledger` balances exactly (every
# stage equal to the simulator's own count of 202s, minus the client's
# duplicate posts that enrich removed) and exits 0; GET /api/ledger says the
# same. Then planted faults are flagged with the right explanation and exit
# status, and undone: a plays_hourly row deleted (aggregate_missing), a raw
# file removed from the lake (lake_missing), a record of Kafka not yet
# ingested (in flight, exit 0), and a record ingest dead-letters for a play
# the api counted (dead_lettered, explained); under live traffic, files
# published during the lake scan are in flight; an api killed is seen as such.
# Takes about 40 s. 0701 runs it with the lake in S3.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/flows_lib.sh"

flows_lake
export TOPSONGS_KAFKA_TOPIC="$topic"
field() { grep 'generated=' "$2" | tail -n 1 | tr ' ' '\n' | sed -n "s/^$1=//p"; }
jq_() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {"d": d}))' "$@"; }
ledger() { # [flags...] -> JSON in $SCRATCH/ledger.json, exit status in $ledger_rc
	set +e
	"$TOPSONGS_BIN" ledger --from "$from" --to "$to" --json "$@" >"$SCRATCH/ledger.json" 2>"$SCRATCH/ledger.err"
	ledger_rc=$?
	set -e
}
diffs() { jq_ "$SCRATCH/ledger.json" "sorted((x['kind'], x['stage'], x['plays']) for x in d['differences'] if x['class'] != 'settled')"; }

"$TOPSONGS_BIN" catalog load --songs 300 --catalog-seed 4 >/dev/null || fail "catalog load"
API_PORT="$(free_port)"
start_api "$API_PORT" --kafka-topic "$topic"
wait_ready "$API_PORT"

# 1. A real run: a 3-hour back-fill through the api, with client duplicates.
from="$(date -u -d '-4 hours' +%Y-%m-%dT%H:00:00Z)"
to="$(date -u -d '+1 hour' +%Y-%m-%dT%H:00:00Z)"
"$TOPSONGS_BIN" simulate --target "http://127.0.0.1:$API_PORT" --from -3h --rate 0.25 --seed 7 \
	--songs 300 --catalog-seed 4 --retry-share 0.03 2>"$SCRATCH/sim.txt" ||
	fail "simulate: $(cat "$SCRATCH/sim.txt")"
sleep 1.5 # the api flushes its counts every second
accepted=$(q "SELECT coalesce(sum(accepted), 0) FROM api_accepted")
[ "$accepted" = "$(field accepted "$SCRATCH/sim.txt")" ] ||
	fail "the api recorded $accepted 202s, the simulator got $(grep generated= "$SCRATCH/sim.txt")"
[ "$accepted" -gt 1000 ] || fail "the api recorded $accepted accepted plays"
ingest_until "$accepted" --kafka-topic "$topic" --ingest-group "g-$topic" --ingest-dlq-topic "$topic-dlq" \
	--lake-url "$lake" --ingest-flush-ms 300 --ingest-max-rows 500 --ingest-metrics-listen 127.0.0.1:0

# Before the flows: everything is in raw/, nothing enriched — in flight only.
ledger
[ "$ledger_rc" = 0 ] || fail "in flight: exit $ledger_rc: $(cat "$SCRATCH/ledger.err") $(diffs)"
[ "$(jq_ "$SCRATCH/ledger.json" "d['status']")" = in_flight ] || fail "not in flight: $(diffs)"

run_flow enrich >/dev/null || fail "enrich"
run_flow aggregate >/dev/null || fail "aggregate"
ledger
[ "$ledger_rc" = 0 ] || fail "after the flows: exit $ledger_rc: $(cat "$SCRATCH/ledger.err") $(diffs)"
[ "$(jq_ "$SCRATCH/ledger.json" "d['balanced']")" = True ] || fail "not balanced: $(diffs)"
dups=$(q "SELECT coalesce(sum(duplicates), 0) FROM flow_enriched_files")
[ "$dups" -gt 0 ] || fail "the simulator's duplicate posts were not removed"
expect="{'accepted': $accepted, 'kafka': $accepted, 'raw': $accepted, 'enriched': $((accepted - dups)), 'duplicates_removed': $dups, 'hourly': $((accepted - dups)), 'daily': $((accepted - dups))}"
[ "$(jq_ "$SCRATCH/ledger.json" "d['totals']")" = "$expect" ] ||
	fail "totals $(jq_ "$SCRATCH/ledger.json" "d['totals']"), expected $expect"
[ "$(jq_ "$SCRATCH/ledger.json" "(d['lake_checked'], d['kafka']['lag'], len(d['hours']) >= 12)")" = "(True, 0, True)" ] ||
	fail "lake, lag or hours: $(head -c 600 "$SCRATCH/ledger.json")"
"$TOPSONGS_BIN" ledger --from "$from" --to "$to" >"$SCRATCH/ledger.txt" || fail "text form: exit $?"
grep -q '^balanced: 0 in flight, 0 mismatches' "$SCRATCH/ledger.txt" || fail "text: $(tail -3 "$SCRATCH/ledger.txt")"

# The api's endpoint gives the same document, and refuses bad parameters.
enc() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$1"; }
[ "$(get "/api/ledger?from=$(enc "$from")&to=$(enc "$to")")" = 200 ] || fail "GET /api/ledger: $(cat "$SCRATCH/body")"
cp "$SCRATCH/body" "$SCRATCH/api-ledger.json"
[ "$(jq_ "$SCRATCH/api-ledger.json" "(d['balanced'], d['totals'])")" = "(True, $expect)" ] ||
	fail "GET /api/ledger: $(head -c 600 "$SCRATCH/api-ledger.json")"
[ "$(get "/api/ledger?from=$(enc "$from")&to=$(enc "$to")&region=EU&lake=0")" = 200 ] || fail "region=EU"
[ "$(jq_ "$SCRATCH/body" "(d['region'], d['lake_checked'], {h['region'] for h in d['hours']})")" = "('EU', False, {'EU'})" ] ||
	fail "region=EU: $(head -c 300 "$SCRATCH/body")"
for bad in "region=ZZ:region" "from=yesterday:from" "lake=2:lake" "colour=red:colour" \
	"from=2026-01-01&to=2026-03-01:to" "from=2026-01-02&to=2026-01-01:from" "region=EU&region=SA:region"; do
	[ "$(get "/api/ledger?${bad%:*}")" = 400 ] || fail "GET /api/ledger?${bad%:*}: not 400"
	[ "$(jq_ "$SCRATCH/body" "d['param']")" = "${bad##*:}" ] || fail "${bad%:*}: $(cat "$SCRATCH/body")"
done

# 2. A song's count deleted from plays_hourly (from its packed row):
# aggregate_missing, unexplained, exit 1.
plays=$(q "WITH t AS (SELECT region, hour_start, song_id, plays FROM plays_hourly WHERE region <> 'ALL'
	ORDER BY plays DESC, song_id LIMIT 1), u AS (UPDATE plays_hourly_packed p SET
	song_ids = array_remove(p.song_ids, t.song_id), plays = p.plays[:array_position(p.song_ids, t.song_id) - 1]
	|| p.plays[array_position(p.song_ids, t.song_id) + 1:] FROM t WHERE p.region = t.region
	AND p.hour_start = t.hour_start) SELECT plays FROM t")
ledger
[ "$ledger_rc" = 1 ] || fail "deleted plays_hourly row: exit $ledger_rc"
diffs | grep -q "('aggregate_missing', 'hourly', $plays)" || fail "deleted row: $(diffs)"
diffs | grep -q "chart_mismatch" || fail "the charts no longer match the counts, unflagged: $(diffs)"
[ "$(jq_ "$SCRATCH/ledger.json" "d['counts']['unexplained'] > 0")" = True ] || fail "explained?"
run_flow aggregate >/dev/null || true
q "TRUNCATE plays_hourly_packed, top_songs_hourly, top_songs_daily; UPDATE flow_enriched_files SET aggregated = false" >/dev/null
run_flow aggregate >/dev/null || fail "re-aggregate"
ledger
[ "$ledger_rc" = 0 ] || fail "after re-aggregating: $(diffs)"

# 3. A raw file gone from the lake (a folder or S3): lake_missing in raw, exit 1.
# (through files: with pipefail, `| head` could fail the pipeline by SIGPIPE)
"$TOPSONGS_BIN" store ls raw/ >"$SCRATCH/raw.ls" || fail "store ls"
victim="$(cut -f2 "$SCRATCH/raw.ls" | grep '\.parquet$' | sort >"$SCRATCH/raw.keys"; sed -n 1p "$SCRATCH/raw.keys")"
[ -n "$victim" ] || fail "no raw file to remove: $(head -c 300 "$SCRATCH/raw.ls")"
"$TOPSONGS_BIN" store get "$victim" --file "$SCRATCH/victim.parquet" || fail "store get $victim"
"$TOPSONGS_BIN" parquet inspect "$SCRATCH/victim.parquet" >"$SCRATCH/victim.txt" || fail "inspect"
rows=$(sed -n 's/^rows: *\([0-9]*\).*/\1/p' "$SCRATCH/victim.txt")
"$TOPSONGS_BIN" store rm "$victim" || fail "store rm"
ledger
[ "$ledger_rc" = 1 ] || fail "raw file removed: exit $ledger_rc"
diffs | grep -q "('lake_missing', 'raw', ${rows:-x})" || fail "raw file of $rows rows removed: $(diffs)"
ledger --no-lake
[ "$ledger_rc" = 0 ] || fail "--no-lake trusts the bookkeeping: exit $ledger_rc $(diffs)"
"$TOPSONGS_BIN" store put "$victim" --file "$SCRATCH/victim.parquet" || fail "store put"
ledger
[ "$ledger_rc" = 0 ] || fail "raw file back: exit $ledger_rc $(diffs)"

# 4. A play in Kafka the api counted but ingest has not read: in flight, exit 0.
hour_start="$(q "SELECT to_char(min(hour_start) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SSZ') FROM api_accepted WHERE region = 'EU'")"
ts="$(date -u -d "$hour_start + 5 minutes" +%Y-%m-%dT%H:%M:%S.000Z)"
printf 'u1\t{"event_id":"0d5b1f2e-1c3a-4f1e-9a51-7f0f5e4b2a11","user_id":"u1","song_id":"s000001","region":"EU","ts":"%s"}\n' "$ts" |
	kcat -P -b "$TOPSONGS_KAFKA_BROKERS" -t "$topic" -K $'\t' || fail "kcat"
q "UPDATE api_accepted SET accepted = accepted + 1 WHERE region = 'EU' AND hour_start = '$hour_start'" >/dev/null
ledger
[ "$ledger_rc" = 0 ] || fail "a record in Kafka's lag: exit $ledger_rc $(diffs)"
[ "$(jq_ "$SCRATCH/ledger.json" "(d['status'], d['kafka']['lag'])")" = "('in_flight', 1)" ] || fail "lag: $(diffs)"
diffs | grep -q "('in_flight', 'kafka', 1)" || fail "in flight: $(diffs)"

# 5. ...and one the api counted that ingest dead-letters: explained, exit 1.
printf 'u1\t{"event_id":"not a uuid","region":"EU"}\n' | kcat -P -b "$TOPSONGS_KAFKA_BROKERS" -t "$topic" -K $'\t'
q "UPDATE api_accepted SET accepted = accepted + 1 WHERE region = 'EU' AND hour_start = '$hour_start'" >/dev/null
ingest_until "$((accepted + 1))" --kafka-topic "$topic" --ingest-group "g-$topic" --ingest-dlq-topic "$topic-dlq" \
	--lake-url "$lake" --ingest-flush-ms 300 --ingest-metrics-listen 127.0.0.1:0
for _ in $(seq 1 40); do [ "$(q "SELECT count(*) FROM ingest_dead_letters")" = 1 ] && break; sleep 0.25; done
[ "$(q "SELECT sum(records) FROM ingest_dead_letters")" = 1 ] || fail "dead letters: $(q "TABLE ingest_dead_letters")"
run_flow enrich >/dev/null || fail "enrich"
run_flow aggregate >/dev/null || fail "aggregate"
ledger
[ "$ledger_rc" = 1 ] || fail "dead-lettered: exit $ledger_rc $(diffs)"
[ "$(diffs)" = "[('dead_lettered', 'kafka', 1)]" ] || fail "dead-lettered: $(diffs)"
[ "$(jq_ "$SCRATCH/ledger.json" "(d['counts']['unexplained'], d['kafka']['dead_lettered'])")" = "(0, 1)" ] ||
	fail "dead letter not explained: $(diffs)"

# 6. Live traffic: ingest running and the simulator playing now. A test-only
# pause holds the ledger 2 s between its snapshot and the lake scan, so the
# scan finds files ingest published since; read again afterwards, the
# bookkeeping knows them: in flight, never an unexplained lake_extra.
"$TOPSONGS_BIN" ingest --kafka-topic "$topic" --ingest-group "g-$topic" --ingest-dlq-topic "$topic-dlq" \
	--lake-url "$lake" --ingest-flush-ms 300 --ingest-metrics-listen 127.0.0.1:0 >>"$SCRATCH/ingest.log" 2>&1 &
live_ingest=$!
pids_to_stop+=("$live_ingest")
"$TOPSONGS_BIN" simulate --target "http://127.0.0.1:$API_PORT" --rate 100 --duration 9 --batch 5 \
	--concurrency 1 --seed 9 --songs 300 --catalog-seed 4 --quiet 2>"$SCRATCH/sim-live.txt" &
live_sim=$!
sleep 2
live_to="$(date -u -d '+2 hours' +%Y-%m-%dT%H:00:00Z)"
set +e
TS_FAILPOINT=ledger.scan-pause:2 "$TOPSONGS_BIN" ledger --from "$from" --to "$live_to" --json \
	>"$SCRATCH/ledger.json" 2>"$SCRATCH/ledger.err"
set -e
[ "$(jq_ "$SCRATCH/ledger.json" "d['counts']['unexplained']")" = 0 ] ||
	fail "live traffic: unexplained differences: $(diffs)"
jq_ "$SCRATCH/ledger.json" "[x['stage'] for x in d['differences'] if x['detail'].startswith('published after')]" |
	grep -q "'raw'" || fail "live traffic: the scan found no file published after the snapshot: $(diffs)"
wait "$live_sim" || fail "live simulator: $(cat "$SCRATCH/sim-live.txt")"
kill -TERM "$live_ingest"
wait "$live_ingest" || fail "live ingest exited $?"

# 7. The api's instances: an orderly stop is recorded; a SIGKILL is seen
# (no flush for 5 s, no stop) and would explain a shortfall as api_counts_lost.
kill -TERM "$API_PID"
wait "$API_PID" || fail "api exit $?"
ledger
[ "$(jq_ "$SCRATCH/ledger.json" "(d['api']['live_instances'], d['api']['crashed_instances'])")" = "(0, 0)" ] ||
	fail "after SIGTERM: $(jq_ "$SCRATCH/ledger.json" "d['api']")"
start_api "$API_PORT" --kafka-topic "$topic"
sleep 1.5 # a flush records the instance
ledger
[ "$(jq_ "$SCRATCH/ledger.json" "d['api']['live_instances']")" = 1 ] || fail "live: $(jq_ "$SCRATCH/ledger.json" "d['api']")"
kill -KILL "$API_PID"
sleep 5.5
ledger
[ "$(jq_ "$SCRATCH/ledger.json" "(d['api']['live_instances'], d['api']['crashed_instances'])")" = "(0, 1)" ] ||
	fail "after SIGKILL: $(jq_ "$SCRATCH/ledger.json" "d['api']")"

# 8. Usage errors.
set +e
"$TOPSONGS_BIN" ledger --from 2026-01-02 --to 2026-01-01 >/dev/null 2>&1; [ $? = 2 ] || fail "from > to"
"$TOPSONGS_BIN" ledger --region ZZ >/dev/null 2>&1; [ $? = 2 ] || fail "unknown region"
"$TOPSONGS_BIN" ledger --from yesterday >/dev/null 2>&1; [ $? = 2 ] || fail "bad time"
"$TOPSONGS_BIN" ledger --pg-url postgresql://127.0.0.1:1/x >/dev/null 2>&1; [ $? = 3 ] || fail "PostgreSQL down"
set -e
echo "ok: $accepted accepted, $dups duplicates removed, planted faults flagged"
