#!/usr/bin/env bash
# The api's 202 counts with PostgreSQL down: POST /play and POST /plays keep
# answering 202 at their usual speed (the counts wait in memory, the flush
# never blocks a request), GET /api/ledger answers 503 + Retry-After at
# once, and when PostgreSQL is back the counts of the outage are recorded,
# exactly, without restarting the api. A SIGTERM flushes the last counts.
# Uses a PostgreSQL of its own, so stopping it disturbs nobody. About 15 s.
. "$(dirname "$0")/lib.sh"

pg_dir="$SCRATCH/pg"
pg_port="$(free_port)"
stop_pg() { "$ROOT/scripts/pg.sh" destroy "$pg_dir" >/dev/null 2>&1 || true; }
trap 'cleanup; stop_pg' EXIT
"$ROOT/scripts/pg.sh" start "$pg_dir" "$pg_port" >/dev/null 2>&1 || fail "could not start PostgreSQL"
export TOPSONGS_PG_URL="postgresql://topsongs@127.0.0.1:$pg_port/topsongs"
q() { psql -X -q -tA "$TOPSONGS_PG_URL" -c "$1"; }

topic="$(new_topic)"
export TOPSONGS_KAFKA_TOPIC="$topic"
API_PORT="$(free_port)"
start_api "$API_PORT" --api-web-dir ""
wait_ready "$API_PORT"
make_events 40 3 >"$SCRATCH/a.ndjson"
[ "$(post /plays application/x-ndjson "$SCRATCH/a.ndjson")" = 202 ] || fail "batch before: $(cat "$SCRATCH/body")"
for _ in $(seq 1 30); do [ "$(q "SELECT coalesce(sum(accepted), 0) FROM api_accepted")" = 40 ] && break; sleep 0.1; done
[ "$(q "SELECT sum(accepted) FROM api_accepted")" = 40 ] || fail "counts before: $(q "TABLE api_accepted")"

"$ROOT/scripts/pg.sh" stop "$pg_dir" >/dev/null 2>&1 || fail "could not stop PostgreSQL"
sleep 1.2 # let a flush find PostgreSQL gone
make_events 60 4 >"$SCRATCH/b.ndjson"
t0="$(date +%s%N)"
[ "$(post /plays application/x-ndjson "$SCRATCH/b.ndjson")" = 202 ] || fail "batch while down: $(cat "$SCRATCH/body")"
head -n 1 "$SCRATCH/b.ndjson" | sed 's/"event_id": "[^"]*"/"event_id": "6f1e3c0a-2b4d-4e5f-8a9b-0c1d2e3f4a5b"/' >"$SCRATCH/one.json"
[ "$(post /play application/json "$SCRATCH/one.json")" = 202 ] || fail "play while down: $(cat "$SCRATCH/body")"
t1="$(date +%s%N)"
[ $(((t1 - t0) / 1000000)) -lt 3000 ] || fail "posts took $(((t1 - t0) / 1000000)) ms with PostgreSQL down"
[ "$(get /api/ledger)" = 503 ] || fail "ledger with PostgreSQL down: $(cat "$SCRATCH/body")"
[ -n "$(header Retry-After)" ] || fail "ledger 503 without Retry-After"
grep -q "cannot record accepted counts" "$SCRATCH/api.log" || fail "the outage is not logged"
[ "$(grep -c "cannot record accepted counts" "$SCRATCH/api.log")" = 1 ] || fail "logged more than once per outage"

"$ROOT/scripts/pg.sh" start "$pg_dir" "$pg_port" >/dev/null 2>&1 || fail "could not restart PostgreSQL"
for _ in $(seq 1 50); do [ "$(q "SELECT coalesce(sum(accepted), 0) FROM api_accepted")" = 101 ] && break; sleep 0.2; done
[ "$(q "SELECT sum(accepted) FROM api_accepted")" = 101 ] || fail "counts after the outage: $(q "TABLE api_accepted")"
# (the api waits a second after a failed connect before it tries again)
for _ in $(seq 1 30); do [ "$(get /api/ledger?lake=0)" = 200 ] && break; sleep 0.2; done
[ "$(get /api/ledger?lake=0)" = 200 ] || fail "ledger after the outage: $(cat "$SCRATCH/body")"

# The counts follow the events' regions and hours.
python3 - "$SCRATCH/a.ndjson" "$SCRATCH/b.ndjson" "$SCRATCH/one.json" >"$SCRATCH/expect.txt" <<'PY'
import collections, datetime, json, sys
c = collections.Counter()
for f in sys.argv[1:]:
    for line in open(f):
        e = json.loads(line)
        t = datetime.datetime.fromisoformat(e["ts"]).astimezone(datetime.timezone.utc)
        c[(e["region"], t.strftime("%Y-%m-%d %H"))] += 1
for k in sorted(c):
    print(f"{k[0]}|{k[1]}|{c[k]}")
PY
q "SELECT region, to_char(hour_start AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24'), accepted FROM api_accepted ORDER BY 1, 2" >"$SCRATCH/got.txt"
diff -u "$SCRATCH/expect.txt" "$SCRATCH/got.txt" || fail "counts per region and hour differ"

# A SIGTERM flushes what the last second counted.
[ "$(post /plays application/x-ndjson "$SCRATCH/a.ndjson")" = 202 ] || fail "batch again"
kill -TERM "$API_PID"
wait "$API_PID" || fail "api exit $?"
[ "$(q "SELECT sum(accepted) FROM api_accepted")" = 141 ] || fail "the last counts were not flushed at SIGTERM"
[ "$(q "SELECT count(*) FROM api_instances WHERE stopped_at IS NOT NULL")" = 1 ] || fail "stop not recorded"
echo "ok: 202s counted through a PostgreSQL outage, recorded when it came back"
