#!/usr/bin/env bash
# Leases: a run whose scheduler is killed with SIGKILL mid-run stays
# 'running' only until its lease expires; then another scheduler marks it
# 'abandoned' and runs the flow again (trigger retry, next attempt). While
# its owner lives, the lease is renewed and nobody touches the run.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-sched.sh"

# B watches (its own schedules are off): it only sweeps and re-runs.
start_scheduler B --scheduler-schedules 'enrich=off;aggregate=off'
# A starts a run of enrich that hangs for a minute (one catch-up run:
# pretend the last scheduled run was two days ago; aggregate is off).
q "INSERT INTO flow_runs (flow, scope, trigger, state, owner, started_at, finished_at)
	VALUES ('enrich', '*', 'schedule', 'succeeded', 'old', now() - interval '2 days',
	now() - interval '2 days')"
TS_FAILPOINT=sched_run_hang:60000 start_scheduler A --scheduler-schedules 'enrich=@daily;aggregate=off'
wait_for 15 "SELECT count(*) = 1 FROM flow_runs WHERE owner = 'A' AND state = 'running'"
id="$(q "SELECT id FROM flow_runs WHERE owner = 'A'")"
lease0="$(q "SELECT lease_until FROM flow_runs WHERE id = $id")"

# alive: 4 s is more than two leases (1.5 s); the lease moves, the run stays
sleep 4
[ "$(q "SELECT state FROM flow_runs WHERE id = $id")" = running ] || fail "a live run was touched: $(q "SELECT * FROM flow_runs WHERE id = $id")"
[ "$(q "SELECT lease_until > '$lease0' AND lease_until > now() FROM flow_runs WHERE id = $id")" = t ] ||
	fail "the lease was not renewed"

kill -9 "${SCHED_PID[A]}"
wait "${SCHED_PID[A]}" 2>/dev/null || true
killed_at="$(q "SELECT now()")"
wait_for 20 "SELECT state = 'abandoned' FROM flow_runs WHERE id = $id"
row="$(q "SELECT finished_at >= lease_until, error FROM flow_runs WHERE id = $id")"
case "$row" in "t|lease expired at "*"its owner A stopped renewing it"*) ;; *) fail "abandoned row: $row" ;; esac
# ...and B ran the flow again
wait_for 20 "SELECT count(*) = 1 FROM flow_runs WHERE owner = 'B' AND state <> 'running'"
[ "$(q "SELECT trigger || ' ' || attempt || ' ' || (started_at > '$killed_at') FROM flow_runs WHERE owner = 'B'")" = \
	"retry 2 true" ] || fail "re-run (killed at $killed_at): $(q "SELECT * FROM flow_runs")"
grep -q "run abandoned: its lease expired" "$SCRATCH/B.log" || fail "B did not log the abandon"
stop_scheduler B
[ "$(q "SELECT count(*) FROM flow_runs WHERE state = 'running'")" = 0 ] || fail "runs left running"
echo ok
