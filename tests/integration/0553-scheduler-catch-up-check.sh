#!/usr/bin/env bash
# Catch-up after the scheduler was stopped, under each policy, and the
# scheduler line of `topsongs check` without a scheduler, with a running
# one, after a clean stop and after a kill -9 (stale heartbeat).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-sched.sh"

check_sched() { # STATUS EXIT REASON-SUBSTRING
	local rc=0
	"$TOPSONGS_BIN" check --json --check-required scheduler >"$SCRATCH/check.json" 2>"$SCRATCH/check.err" || rc=$?
	[ "$rc" = "$2" ] || fail "check ($1): exit $rc, expected $2: $(cat "$SCRATCH/check.json" "$SCRATCH/check.err")"
	python3 - "$SCRATCH/check.json" "$1" "$3" <<'PY' || fail "check ($1): $(cat "$SCRATCH/check.json")"
import json, sys
s = {x["name"]: x for x in json.load(open(sys.argv[1]))["services"]}["scheduler"]
assert s["status"] == sys.argv[2] and sys.argv[3] in s["reason"], s
PY
}

check_sched "not running" 3 "no scheduler heartbeat: no scheduler is running"

# A first scheduler runs enrich every 3 s (aggregate off), then stops.
sched='enrich=every 3s;aggregate=off'
start_scheduler A --scheduler-schedules "$sched"
wait_for 15 "SELECT count(*) >= 1 FROM flow_runs WHERE trigger = 'schedule' AND state <> 'running'"
check_sched ok 0 "from A"
stop_scheduler A
check_sched "not running" 3 "no scheduler heartbeat"

# missed fires: at least 3 (10 s stopped, every 3 s)
missed_since() { # how many fires of every 3 s since the last scheduled start
	q "SELECT floor(extract(epoch FROM now()) / 3) - floor(extract(epoch FROM max(started_at)) / 3)
		FROM flow_runs WHERE trigger <> 'manual'"
}
catch_ups() { q "SELECT count(*) FROM flow_runs WHERE trigger = 'catch-up' AND owner = '$1'"; }

sleep 10
[ "$(missed_since)" -ge 3 ] || fail "test set-up: only $(missed_since) fires missed"
# all, bounded by catch-up-max: 2 runs back to back
start_scheduler B --scheduler-schedules "$sched" --scheduler-catch-up all --scheduler-catch-up-max 2
wait_for 15 "SELECT count(*) = 2 FROM flow_runs WHERE trigger = 'catch-up' AND owner = 'B' AND state <> 'running'"
sleep 1
stop_scheduler B
[ "$(catch_ups B)" = 2 ] || fail "catch-up all (max 2): $(catch_ups B) runs"
grep -q 'missed_fires=2 catch_up=all' "$SCRATCH/B.log" || fail "B's log: $(grep 'flow scheduled' "$SCRATCH/B.log")"

sleep 10
# skip: one run at once for all the missed fires
start_scheduler C --scheduler-schedules "$sched" --scheduler-catch-up skip
wait_for 15 "SELECT count(*) = 1 FROM flow_runs WHERE trigger = 'catch-up' AND owner = 'C' AND state <> 'running'"
first_catch_up="$(q "SELECT min(started_at) FROM flow_runs WHERE owner = 'C'")"
[ "$(q "SELECT min(trigger) FROM flow_runs WHERE owner = 'C' AND started_at = '$first_catch_up'")" = catch-up ] ||
	fail "C's first run was not the catch-up"
sleep 1
stop_scheduler C
[ "$(catch_ups C)" = 1 ] || fail "catch-up skip: $(catch_ups C) runs"

sleep 7
# none: no catch-up, only the next fire
start_scheduler D --scheduler-schedules "$sched" --scheduler-catch-up none
wait_for 15 "SELECT count(*) >= 1 FROM flow_runs WHERE trigger = 'schedule' AND owner = 'D' AND state <> 'running'"
stop_scheduler D
[ "$(catch_ups D)" = 0 ] || fail "catch-up none: $(catch_ups D) runs"

# a scheduler killed with SIGKILL leaves a heartbeat that goes stale after
# three heartbeat intervals (3 x 200 ms here)
start_scheduler E --scheduler-schedules "$sched" --scheduler-catch-up none
wait_for 15 "SELECT count(*) = 1 FROM scheduler_heartbeats WHERE instance = 'E'"
check_sched ok 0 "from E"
kill -9 "${SCHED_PID[E]}"
wait "${SCHED_PID[E]}" 2>/dev/null || true
sleep 1.5
check_sched failed 3 "the scheduler has stopped or is stuck"
echo ok
