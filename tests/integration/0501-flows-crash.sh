#!/usr/bin/env bash
# enrich and aggregate killed with SIGKILL at every step of their commit
# protocol (failpoints) and at random moments, and run twice at once, while
# ingest keeps writing and compacting: nothing uncommitted is ever visible
# under enriched/, and once the flows run to the end the lake and the charts
# equal DuckDB's recomputation — nothing lost, nothing counted twice.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/flows_lib.sh"

flows_lake
args=(--kafka-topic "$topic" --ingest-group "g-$topic" --ingest-dlq-topic "$topic-dlq"
	--lake-url "$lake" --ingest-flush-ms 300 --ingest-max-rows 300 --ingest-lateness-s 60
	--ingest-compact-interval-s 1 --ingest-metrics-listen 127.0.0.1:0)

"$TOPSONGS_BIN" catalog load --songs 200 --catalog-seed 3 >/dev/null || fail "catalog load"
"$TOPSONGS_BIN" simulate --out "$SCRATCH/sim.ndjson" --from -4h --songs 200 --catalog-seed 3 \
	--rate 0.5 --retry-share 0.05 --seed 5 --quiet || fail "simulate"
split -n l/12 -d "$SCRATCH/sim.ndjson" "$SCRATCH/chunk."
total=$(wc -l <"$SCRATCH/sim.ndjson")

# Every key under enriched/ is a committed file (flow_enriched_files).
only_committed() {
	local keys
	keys="$("$TOPSONGS_BIN" store ls enriched/ | cut -f2 | sort)"
	[ -z "$keys" ] && return 0
	comm -23 <(echo "$keys") <(q "SELECT path FROM flow_enriched_files" | sort) >"$SCRATCH/stray"
	[ ! -s "$SCRATCH/stray" ] || fail "uncommitted files visible under enriched/: $(head -3 "$SCRATCH/stray")"
}

# killed_at FP FLOW: a run of FLOW that must die at failpoint FP.
# A killed run's lock goes when PostgreSQL notices its client is gone: a
# statement it was running finishes first. Until then a new run of the same
# flow and scope exits 99 (skipped, nothing done), and is tried again.
run_flow_settled() {
	local rc
	for _ in $(seq 1 60); do
		rc=0
		run_flow "$@" || rc=$?
		[ "$rc" = 99 ] || return "$rc"
		sleep 0.25
	done
	return 99
}

killed_at() {
	local rc=0
	TS_FAILPOINT="$1" run_flow_settled "$2" >>"$SCRATCH/flows.log" 2>&1 || rc=$?
	[ "$rc" = 137 ] || fail "$2 with TS_FAILPOINT=$1 exited $rc, not killed: $(tail -3 "$SCRATCH/flows.log")"
	grep -q "failpoint ${1%:*}: SIGKILL" "$SCRATCH/flows.log" || fail "failpoint $1 not reached"
	only_committed
}

"$TOPSONGS_BIN" ingest "${args[@]}" >>"$SCRATCH/ingest.log" 2>&1 &
ipid=$!
pids_to_stop+=("$ipid")
for c in 00 01 02 03; do to_kafka "$topic" "$SCRATCH/chunk.$c"; done
for _ in $(seq 1 120); do
	[ "$(q "SELECT count(DISTINCT (region, day, hour)) FROM ingest_files WHERE published")" -ge 12 ] && break
	sleep 0.25
done

killed_at enrich.staged:3 enrich
killed_at enrich.committed:2 enrich
[ "$(q "SELECT count(*) FROM flow_enriched_files WHERE NOT published")" -ge 1 ] ||
	fail "a run killed after its commit left no unpublished file"
killed_at enrich.published-file:2 enrich
killed_at aggregate.counted:1 aggregate
[ "$(q "SELECT count(*) FROM plays_hourly")" = 0 ] || fail "a killed aggregate left counts behind"
killed_at aggregate.committed:1 aggregate
[ "$(q "SELECT count(*) FROM plays_hourly")" -gt 0 ] || fail "aggregate committed nothing"

# SIGKILLs at random points while the rest of the stream arrives: a random
# failpoint at a random pass, or a plain kill -9 after a random delay.
kills=0
fps=(enrich.staged enrich.committed enrich.published-file aggregate.counted aggregate.committed)
# (Until 8 kills, at least 32 rounds: a failpoint is reached only when the
# flow has work, which depends on what ingest committed meanwhile. Once the
# stream has all been sent, from round 45, every round is a plain kill -9,
# which hits whenever the run outlasts its random delay: on a busy machine
# the failpoint rounds alone may fall short.)
for i in $(seq 1 120); do
	[ "$i" -gt 32 ] && [ "$kills" -ge 8 ] && break
	# a new slice of the stream every 4 rounds, so the flows have work
	[ $((i % 4)) = 1 ] && [ $((i / 4 + 4)) -le 11 ] &&
		to_kafka "$topic" "$SCRATCH/chunk.$(printf %02d $((i / 4 + 4)))"
	fp="${fps[$((RANDOM % ${#fps[@]}))]}"
	rc=0
	if [ $((i % 4)) = 0 ] || [ "$i" -gt 44 ]; then
		run_flow "${fp%%.*}" >>"$SCRATCH/flows.log" 2>&1 &
		pid=$!
		sleep "$(python3 -c "import random; print(round(random.uniform(0.0, 0.05), 3))")"
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || rc=$?
	else
		TS_FAILPOINT="$fp:$((1 + RANDOM % 2))" run_flow "${fp%%.*}" >>"$SCRATCH/flows.log" 2>&1 || rc=$?
	fi
	[ "$rc" = 137 ] && kills=$((kills + 1))
	[ "$rc" = 0 ] || [ "$rc" = 137 ] || [ "$rc" = 99 ] || fail "${fp%%.*} exited $rc: $(tail -3 "$SCRATCH/flows.log")"
	only_committed
	sleep 0.2
done
echo "random kills: $kills"

# Two runs of the same flow at once share the work through the flow's own
# per-partition locks: a run of every region and a back-fill of one region
# have different scheduler scopes, so both run.
for flow in enrich aggregate enrich aggregate; do
	run_flow_settled "$flow" >>"$SCRATCH/flows.log" 2>&1 &
	a=$!
	run_flow_settled "$flow" --region EU >>"$SCRATCH/flows.log" 2>&1 &
	b=$!
	wait "$a" || fail "concurrent $flow failed: $(tail -3 "$SCRATCH/flows.log")"
	wait "$b" || fail "concurrent $flow failed: $(tail -3 "$SCRATCH/flows.log")"
	only_committed
done
[ "$kills" -ge 8 ] || fail "only $kills random kills hit a running flow; the test proves little"

for _ in $(seq 1 240); do
	[ "$(committed_rows)" -ge "$total" ] && break
	sleep 0.25
done
[ "$(committed_rows)" -ge "$total" ] || fail "ingest committed $(committed_rows) of $total"
kill -TERM "$ipid"
wait "$ipid" || fail "ingest exited $?"
run_flow_settled enrich >>"$SCRATCH/flows.log" 2>&1 || fail "enrich: $(tail -3 "$SCRATCH/flows.log")"
run_flow_settled aggregate >>"$SCRATCH/flows.log" 2>&1 || fail "aggregate: $(tail -3 "$SCRATCH/flows.log")"
only_committed
no_staging "$lake"
[ "$(q "SELECT count(*) FROM flow_enriched_files WHERE NOT published OR NOT aggregated")" = 0 ] ||
	fail "files left unpublished or uncounted"
check_flows "$lake"
echo "ok: exact after 6 failpoint kills and $kills random kills"
