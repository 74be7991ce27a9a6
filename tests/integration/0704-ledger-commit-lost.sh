#!/usr/bin/env bash
# The answer to the COMMIT of a flush of 202 counts is lost (failpoint
# ledger.commit-lost: the commit went through, the api is told it failed and
# drops the connection). The api keeps the counts for the next flush, which
# must first see that they were recorded and not add them again; and an api
# that recovers the journal of one that died in that state must not either.
# About 12 s.
. "$(dirname "$0")/lib.sh"

db="t$$_$RANDOM"
psql -X -q "$TOPSONGS_PG_URL" -c "CREATE DATABASE $db" || fail "cannot create database $db"
export TOPSONGS_PG_URL="${TOPSONGS_PG_URL%/*}/$db"
q() { psql -X -q -tA "$TOPSONGS_PG_URL" -c "$1"; }
sum() { q "SELECT coalesce(sum(accepted), 0) FROM api_accepted"; }

export TOPSONGS_KAFKA_TOPIC="$(new_topic)"
API_PORT="$(free_port)"
TS_FAILPOINT=ledger.commit-lost:1 start_api "$API_PORT" --api-web-dir ""
wait_ready "$API_PORT"
make_events 40 3 >"$SCRATCH/a.ndjson"
[ "$(post /plays application/x-ndjson "$SCRATCH/a.ndjson")" = 202 ] || fail "batch: $(cat "$SCRATCH/body")"
for _ in $(seq 1 50); do
	grep -q "failpoint ledger.commit-lost" "$SCRATCH/api.log" && break
	sleep 0.1
done
grep -q "failpoint ledger.commit-lost" "$SCRATCH/api.log" || fail "the failpoint was never reached: $(tail -3 "$SCRATCH/api.log")"
# The next flushes (one a second) must not add the counts again.
sleep 2.5
[ "$(sum)" = 40 ] || fail "40 plays accepted, $(sum) recorded"
grep -q "answer was lost; not adding them again" "$SCRATCH/api.log" ||
	fail "the next flush did not log that it settled the lost answer"

make_events 25 4 >"$SCRATCH/b.ndjson"
[ "$(post /plays application/x-ndjson "$SCRATCH/b.ndjson")" = 202 ] || fail "batch after: $(cat "$SCRATCH/body")"
kill -TERM "$API_PID"
wait "$API_PID" || fail "api exit $?"
[ "$(sum)" = 65 ] || fail "65 plays accepted, $(sum) recorded after the stop"

# The same with a journal, and the api dies (SIGKILL, failpoint
# ledger.commit-lost-kill) while the counts are in doubt, after its journal
# checkpoint: api B, recovering A's journal, must not add them again.
journal="$SCRATCH/journal"
A_PORT="$(free_port)"
TS_FAILPOINT=ledger.commit-lost-kill:1 start_api "$A_PORT" --api-web-dir "" --api-journal-dir "$journal"
a_pid=$API_PID
API_PORT=$A_PORT
wait_ready "$A_PORT"
make_events 30 5 >"$SCRATCH/c.ndjson"
[ "$(post /plays application/x-ndjson "$SCRATCH/c.ndjson")" = 202 ] || fail "batch to A: $(cat "$SCRATCH/body")"
for _ in $(seq 1 50); do kill -0 "$a_pid" 2>/dev/null || break; sleep 0.1; done
! kill -0 "$a_pid" 2>/dev/null || fail "api A did not die at its failpoint"
grep -q "failpoint ledger.commit-lost-kill: SIGKILL" "$SCRATCH/api.log" || fail "A died elsewhere: $(tail -3 "$SCRATCH/api.log")"
[ "$(sum)" = 95 ] || fail "95 plays accepted and committed, $(sum) recorded"
B_PORT="$(free_port)"
start_api "$B_PORT" --api-web-dir "" --api-journal-dir "$journal"
for _ in $(seq 1 50); do
	[ "$(q "SELECT count(*) FROM api_instances WHERE recovered_at IS NOT NULL")" = 1 ] && break
	sleep 0.1
done
[ "$(q "SELECT count(*) FROM api_instances WHERE recovered_at IS NOT NULL")" = 1 ] || fail "B did not recover A's journal: $(tail -3 "$SCRATCH/api.log")"
[ "$(sum)" = 95 ] || fail "after B recovered A's journal: 95 plays accepted, $(sum) recorded"
kill -TERM "$API_PID"
wait "$API_PID" || fail "api B exit $?"
echo "ok: a flush whose COMMIT answer was lost is not counted twice, with or without a journal"
