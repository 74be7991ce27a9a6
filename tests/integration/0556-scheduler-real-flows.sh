#!/usr/bin/env bash
# End to end: `topsongs scheduler` runs the real enrich flow every second
# while ingest writes the raw lake, and aggregate only right after each
# enrich run that wrote rows (its own schedule fires once a year); once
# ingest has committed everything and a later enrich has succeeded, and
# every enrich that wrote rows has an aggregate after it, the charts equal
# DuckDB's recomputation over the lake (flows_check.py), the history shows
# rows in and out, and the runs of a flow never overlapped.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/flows_lib.sh"
# (no cd: flows_lib finds flows_check.py relative to the script)

topic="$(new_topic)"
lake="$SCRATCH/lake"
flows_db
export TOPSONGS_LAKE_URL="$lake" TOPSONGS_SCHEDULER_HEARTBEAT_MS=200 TOPSONGS_SCHEDULER_LEASE_MS=2000
"$TOPSONGS_BIN" catalog load --songs 200 --catalog-seed 3 >/dev/null || fail "catalog load"
"$TOPSONGS_BIN" simulate --out "$SCRATCH/sim.ndjson" --from -3h --songs 200 --catalog-seed 3 --rate 0.3 \
	--retry-share 0.05 --seed 5 --quiet || fail "simulate"
n=$(wc -l <"$SCRATCH/sim.ndjson")

"$TOPSONGS_BIN" scheduler --scheduler-schedules 'enrich=every 1s;aggregate=cron 0 0 1 1 *' \
	--scheduler-instance-id S >"$SCRATCH/sched.log" 2>&1 &
sched=$!
pids_to_stop+=("$sched")
to_kafka "$topic" "$SCRATCH/sim.ndjson"
ingest_until "$n" --kafka-topic "$topic" --ingest-group "g-$topic" --ingest-dlq-topic "$topic-dlq" \
	--lake-url "$lake" --ingest-flush-ms 300 --ingest-max-rows 400 --ingest-metrics-listen 127.0.0.1:0
ingested_at="$(q "SELECT now()")"

# wait for an enrich started after ingest stopped, and an aggregate after
# every enrich that wrote rows
done_sql="SELECT EXISTS (SELECT 1 FROM flow_runs e WHERE e.flow = 'enrich' AND e.state = 'succeeded'
	AND e.started_at > '$ingested_at') AND NOT EXISTS (SELECT 1 FROM flow_runs e WHERE e.flow = 'enrich'
	AND e.rows_out > 0 AND NOT EXISTS (SELECT 1 FROM flow_runs a WHERE a.flow = 'aggregate'
	AND a.state = 'succeeded' AND a.started_at >= e.finished_at))"
for _ in $(seq 1 300); do
	[ "$(q "$done_sql")" = t ] && break
	kill -0 "$sched" 2>/dev/null || fail "the scheduler died: $(tail -5 "$SCRATCH/sched.log")"
	sleep 0.1
done
[ "$(q "$done_sql")" = t ] || fail "no enrich + aggregate after ingest: $("$TOPSONGS_BIN" flows runs --limit 10)"
kill -TERM "$sched"
wait "$sched" || fail "scheduler exited $?: $(tail -5 "$SCRATCH/sched.log")"

check_flows "$lake"
[ "$(q "SELECT count(*) FROM flow_runs WHERE state <> 'succeeded'")" = 0 ] ||
	fail "runs that did not succeed: $("$TOPSONGS_BIN" flows runs --limit 50)"
[ "$(q "SELECT sum(rows_in) > 0 AND sum(rows_out) > 0 FROM flow_runs WHERE flow = 'enrich'")" = t ] ||
	fail "enrich runs show no rows: $("$TOPSONGS_BIN" flows runs --flow enrich)"
[ "$(q "SELECT sum(rows_in) > 0 FROM flow_runs WHERE flow = 'aggregate'")" = t ] ||
	fail "aggregate runs show no rows: $("$TOPSONGS_BIN" flows runs --flow aggregate)"
[ "$(q "SELECT count(*) FROM flow_runs a JOIN flow_runs b ON a.flow = b.flow AND a.id < b.id
	AND tstzrange(a.started_at, a.finished_at) && tstzrange(b.started_at, b.finished_at)")" = 0 ] ||
	fail "runs of one flow overlapped"
[ "$(q "SELECT count(*) > 0 FROM top_songs_hourly")" = t ] || fail "no hourly chart"
[ "$(q "SELECT count(*) > 0 AND bool_and(trigger = 'after') FROM flow_runs WHERE flow = 'aggregate'")" = t ] ||
	fail "aggregate did not run after enrich: $("$TOPSONGS_BIN" flows runs --flow aggregate)"
echo "ok: $n plays, $(q "SELECT count(*) FROM flow_runs") runs"
