#!/usr/bin/env bash
# The answer to the COMMIT of a flush of 202 counts is lost (failpoint
# ledger.commit-lost: the commit went through, the api is told it failed and
# drops the connection). The api keeps the counts for the next flush, which
# must first see that they were recorded and not add them again. About 8 s.
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
echo "ok: a flush whose COMMIT answer was lost is not counted twice"
