#!/usr/bin/env bash
# The api's journal of 202s (api.journal-dir, docs/ledger.md): the ledger's
# accepted counts survive a SIGKILL of the api. Api A answers plays while
# PostgreSQL is out of its reach (its counts only in memory and its journal);
# api B, on the same journal folder and a working database, leaves A alone
# while A lives and recovers A's counts once A is SIGKILLed; an api stopped
# (SIGTERM) with PostgreSQL out of reach keeps its counts in the journal for
# B too. Then the ledger balances exactly, with no api_counts_lost. A damaged
# journal is reported and left alone; the api keeps working.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/flows_lib.sh"

flows_lake
export TOPSONGS_KAFKA_TOPIC="$topic"
journal="$SCRATCH/journal"
no_pg="postgresql://topsongs@127.0.0.1:1/none"
field() { grep 'generated=' "$2" | tail -n 1 | tr ' ' '\n' | sed -n "s/^$1=//p"; }
accepted() { q "SELECT coalesce(sum(accepted), 0) FROM api_accepted"; }
plays() { # PORT SEED: a simulated hour of plays through the api; prints its 202s
	"$TOPSONGS_BIN" simulate --target "http://127.0.0.1:$1" --from -1h --rate 0.1 --seed "$2" \
		--retry-share 0 2>"$SCRATCH/sim.txt" || fail "simulate: $(cat "$SCRATCH/sim.txt")"
	field accepted "$SCRATCH/sim.txt"
}
wait_accepted() { # N: until api_accepted sums to N (B scans the folder every 10 s)
	for _ in $(seq 1 100); do
		[ "$(accepted)" = "$1" ] && return 0
		sleep 0.25
	done
	fail "api_accepted holds $(accepted) plays, expected $1: $(tail -5 "$SCRATCH/api.log")"
}

# A: PostgreSQL unreachable, so nothing leaves its memory but the journal.
A_PORT="$(free_port)"
start_api "$A_PORT" --api-journal-dir "$journal" --pg-url "$no_pg"
a_pid=$API_PID
wait_ready "$A_PORT"
n1="$(plays "$A_PORT" 11)"
[ "$n1" -gt 100 ] || fail "only $n1 plays accepted by A"
ls "$journal"/*.journal >/dev/null 2>&1 || fail "A wrote no journal: $(ls -la "$journal")"
sleep 3 # A's failed flushes, one a second, each replace its segments by a checkpoint
[ "$(ls "$journal" | grep -c '\.journal$')" -le 2 ] || fail "A's segments pile up: $(ls "$journal")"

# B: a working database on the same folder; A lives, so B leaves it alone.
B_PORT="$(free_port)"
start_api "$B_PORT" --api-journal-dir "$journal"
b_pid=$API_PID
wait_ready "$B_PORT"
sleep 2
[ "$(accepted)" = 0 ] || fail "B took the counts of A, which is alive: $(accepted)"

# A is SIGKILLed: B's next scan recovers its counts, exactly, once.
kill -KILL "$a_pid"
wait "$a_pid" 2>/dev/null || true
wait_accepted "$n1"
grep -q "recovered the 202 counts of a gone api" "$SCRATCH/api.log" || fail "no recovery logged"
[ "$(q "SELECT count(*) FROM api_instances WHERE recovered_at IS NOT NULL AND stopped_at IS NOT NULL")" = 1 ] ||
	fail "A not marked recovered: $(q "TABLE api_instances")"

# C: stopped in order while PostgreSQL is out of reach; B records its counts.
C_PORT="$(free_port)"
start_api "$C_PORT" --api-journal-dir "$journal" --pg-url "$no_pg"
c_pid=$API_PID
wait_ready "$C_PORT"
n2="$(plays "$C_PORT" 12)"
kill -TERM "$c_pid"
wait "$c_pid" || fail "C exited $?"
grep -q "the next api on the journal folder records them" "$SCRATCH/api.log" || fail "C did not say it kept its counts"
wait_accepted "$((n1 + n2))" # (and not A's again: B scanned since, so C's recovery)

# B's own plays, then the whole pipeline: the ledger balances exactly.
n3="$(plays "$B_PORT" 13)"
kill -TERM "$b_pid"
wait "$b_pid" || fail "B exited $?"
total=$((n1 + n2 + n3))
[ "$(accepted)" = "$total" ] || fail "api_accepted $(accepted), the simulator got $total 202s"
[ -z "$(ls "$journal")" ] || fail "journal files left after every api stopped: $(ls "$journal")"
ingest_until "$total" --kafka-topic "$topic" --ingest-group "g-$topic" --ingest-dlq-topic "$topic-dlq" \
	--lake-url "$lake" --ingest-flush-ms 300 --ingest-max-rows 500 --ingest-metrics-listen 127.0.0.1:0
run_flow enrich >/dev/null || fail "enrich"
run_flow aggregate >/dev/null || fail "aggregate"
from="$(date -u -d '-2 hours' +%Y-%m-%dT%H:00:00Z)"
to="$(date -u -d '+1 hour' +%Y-%m-%dT%H:00:00Z)"
"$TOPSONGS_BIN" ledger --from "$from" --to "$to" --json >"$SCRATCH/ledger.json" ||
	fail "ledger exit $?: $(head -c 800 "$SCRATCH/ledger.json")"
python3 - "$SCRATCH/ledger.json" "$total" <<'PY' || fail "ledger"
import json, sys
d, total = json.load(open(sys.argv[1])), int(sys.argv[2])
bad = [x for x in d["differences"] if x["class"] != "settled"]
assert d["balanced"] and not bad, bad
assert d["totals"]["accepted"] == d["totals"]["kafka"] == d["totals"]["enriched"] == total, d["totals"]
assert d["api"]["crashed_instances"] == 0, d["api"]
PY

# A damaged journal of a gone api: reported, left in place, nothing counted.
printf 'EU\0\0\0\0\0\0\1\0\0\0\0\0\0\0' >"$journal/h:9:9.1.journal" # zero plays
: >"$journal/h:9:9.lock"
start_api "$B_PORT" --api-journal-dir "$journal"
wait_ready "$B_PORT"
for _ in $(seq 1 40); do
	grep -q "cannot recover a gone api's 202 counts" "$SCRATCH/api.log" && break
	sleep 0.25
done
grep -q "journal record at byte 0: bad plays" "$SCRATCH/api.log" || fail "damage not reported: $(tail -3 "$SCRATCH/api.log")"
[ -e "$journal/h:9:9.1.journal" ] || fail "the damaged segment was removed"
[ "$(accepted)" = "$total" ] || fail "a damaged journal changed the counts: $(accepted)"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$B_PORT/healthz")" = 200 ] || fail "api unhealthy"
echo "ok: $n1 plays of a SIGKILLed api and $n2 of one stopped without PostgreSQL recovered; ledger exact at $total"
