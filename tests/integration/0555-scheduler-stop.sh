#!/usr/bin/env bash
# Graceful stop: SIGTERM lets a run going on finish (within
# scheduler.stop-timeout-ms) and exits 0; a run that outlives the timeout is
# marked abandoned, and its lock is free at once for the next run. A bad
# schedule, or an instance name a live scheduler uses, is a usage error (2).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-sched.sh"
cd "$SCRATCH"

rc=0
"$TOPSONGS_BIN" scheduler --scheduler-schedules 'enrich=every 0s' >out 2>err || rc=$?
[ "$rc" = 2 ] || fail "bad schedule: exit $rc: $(cat err)"
grep -q "schedule of flow enrich" err || fail "bad schedule reason: $(cat err)"
rc=0
"$TOPSONGS_BIN" scheduler --scheduler-schedules 'nope=every 1s' >out 2>err || rc=$?
[ "$rc" = 2 ] && grep -q "'nope=every 1s' is not FLOW=SCHEDULE for a known flow" err || fail "unknown flow: $rc $(cat err)"
rc=0
"$TOPSONGS_BIN" scheduler --scheduler-catch-up sometimes >out 2>err || rc=$?
[ "$rc" = 2 ] || fail "bad catch-up policy: exit $rc"

# two live schedulers may not share an instance name (they would abandon
# each other's runs at a stop); the refused one leaves the other's heartbeat
start_scheduler X --scheduler-schedules 'enrich=off;aggregate=off'
wait_for 15 "SELECT count(*) = 1 FROM scheduler_heartbeats WHERE instance = 'X'"
rc=0
"$TOPSONGS_BIN" scheduler --scheduler-instance-id X >out 2>err || rc=$?
[ "$rc" = 2 ] && grep -q "scheduler.instance-id X is in use by the live scheduler" err ||
	fail "a second scheduler X: exit $rc: $(cat err)"
[ "$(q "SELECT pid FROM scheduler_heartbeats WHERE instance = 'X'")" = "${SCHED_PID[X]}" ] ||
	fail "the refused scheduler touched X's heartbeat"
stop_scheduler X

# 1. the run finishes before the stop
TS_FAILPOINT=sched_run_hang:1500 start_scheduler A --scheduler-schedules 'enrich=every 1s;aggregate=off'
wait_for 15 "SELECT count(*) = 1 FROM flow_runs WHERE owner = 'A' AND state = 'running'"
stop_scheduler A
[ "$(q "SELECT string_agg(state, ' ') FROM flow_runs WHERE owner = 'A'")" != running ] || fail "run left running"
[ "$(q "SELECT count(*) FROM flow_runs WHERE owner = 'A' AND state IN ('running', 'abandoned')")" = 0 ] ||
	fail "the run did not finish: $(q "SELECT * FROM flow_runs")"
[ "$(q "SELECT extract(epoch FROM finished_at - started_at) >= 1.5 FROM flow_runs WHERE owner = 'A'")" = t ] ||
	fail "the run was cut short"

# 2. the run outlives the stop timeout: abandoned, exit 0, lock released
TS_FAILPOINT=sched_run_hang:60000 start_scheduler B --scheduler-schedules 'enrich=every 1s;aggregate=off' \
	--scheduler-stop-timeout-ms 300
wait_for 15 "SELECT count(*) = 1 FROM flow_runs WHERE owner = 'B' AND state = 'running'"
stop_scheduler B
[ "$(q "SELECT state || ' ' || error FROM flow_runs WHERE owner = 'B'")" = \
	"abandoned the scheduler stopped before the run finished" ] || fail "B's run: $(q "SELECT * FROM flow_runs WHERE owner = 'B'")"
rc=0
"$TOPSONGS_BIN" flows run enrich >out 2>err || rc=$?
[ "$rc" != 99 ] || fail "the lock of the abandoned run was still held"
[ "$(q "SELECT count(*) FROM scheduler_heartbeats")" = 0 ] || fail "heartbeats left"
echo ok
