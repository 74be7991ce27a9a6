#!/usr/bin/env bash
# Two schedulers on one database share the work without ever running the
# same flow and scope at the same time: every run lasts 0.7 s and both fire
# every second, so they contend at every fire; the flow_runs intervals of a
# flow must not overlap, and fires must have been skipped for the other's
# lock (or its finished run of the same fire).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-sched.sh"

export TS_FAILPOINT=sched_run_hang:700
sched='enrich=every 1s;aggregate=every 1s'
start_scheduler A --scheduler-schedules "$sched"
start_scheduler B --scheduler-schedules "$sched"
wait_for 60 "SELECT count(*) >= 6 FROM flow_runs WHERE flow = 'enrich' AND state <> 'running'"
wait_for 30 "SELECT count(*) >= 6 FROM flow_runs WHERE flow = 'aggregate' AND state <> 'running'"
stop_scheduler A
stop_scheduler B

overlaps="$(q "SELECT count(*) FROM flow_runs a JOIN flow_runs b
	ON a.flow = b.flow AND a.scope = b.scope AND a.id < b.id
	AND tstzrange(a.started_at, a.finished_at) && tstzrange(b.started_at, b.finished_at)")"
[ "$overlaps" = 0 ] || fail "$overlaps overlapping runs: $(q "SELECT id, flow, owner, started_at, finished_at FROM flow_runs ORDER BY flow, started_at")"
[ "$(q "SELECT count(*) FROM flow_runs WHERE finished_at IS NULL OR state = 'running'")" = 0 ] ||
	fail "runs left unfinished after a clean stop"
# they contended: fires were skipped because the other held the lock or had
# already served the fire (which of the two wins a fire is up to timing)
skips() { grep -cE 'another run holds its lock|another scheduler already ran this fire' "$SCRATCH/$1.log" || true; }
[ $(($(skips A) + $(skips B))) -ge 3 ] || fail "no contention seen: A skipped $(skips A), B $(skips B)"
# a clean stop removes the heartbeats
[ "$(q "SELECT count(*) FROM scheduler_heartbeats")" = 0 ] || fail "heartbeats left after a clean stop"
echo "ok: runs by owner: $(q "SELECT string_agg(owner || '=' || n, ' ') FROM (SELECT owner, count(*) n FROM flow_runs GROUP BY owner) x"); skipped: A $(skips A), B $(skips B)"
