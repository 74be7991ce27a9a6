#!/usr/bin/env bash
# The scheduler heartbeat in `topsongs check`: "not running" without the
# table or with an empty one, ok with a fresh beat, failed with a stale one;
# and with check.required=scheduler the exit status follows it. Works in a
# private schema (search_path), so the real scheduler_heartbeats is untouched.
# (0553 checks the line against a real running scheduler.)
. "$(dirname "$0")/lib.sh"
: "${TOPSONGS_PG_URL:?}"
command -v psql >/dev/null || fail "psql is not installed"

cd "$SCRATCH"
schema="check_sched_$$_$RANDOM"
sep='?'
case "$TOPSONGS_PG_URL" in *\?*) sep='&' ;; esac
url="$TOPSONGS_PG_URL${sep}options=-csearch_path%3D$schema"
sql() { PGOPTIONS=-cclient_min_messages=warning psql "$TOPSONGS_PG_URL" -v ON_ERROR_STOP=1 -qAtc "$1" >/dev/null; }
trap 'sql "DROP SCHEMA IF EXISTS $schema CASCADE" || true; cleanup' EXIT
sql "CREATE SCHEMA $schema"

# expect STATUS EXIT REASON-SUBSTRING
expect() {
	local rc=0
	"$TOPSONGS_BIN" check --json --pg-url "$url" --check-required scheduler \
		--lake-url "$SCRATCH/lake" >"$SCRATCH/out.json" 2>"$SCRATCH/err" || rc=$?
	[ "$rc" = "$2" ] || fail "scheduler $1: exit $rc, expected $2: $(cat "$SCRATCH/out.json" "$SCRATCH/err")"
	python3 - "$SCRATCH/out.json" "$1" "$3" <<'PY' || fail "scheduler $1: $(cat "$SCRATCH/out.json")"
import json, sys
j = json.load(open(sys.argv[1]))
s = {x["name"]: x for x in j["services"]}["scheduler"]
assert s["required"] is True, s
assert s["status"] == sys.argv[2], s
assert sys.argv[3] in s["reason"], s
assert j["ok"] is (sys.argv[2] == "ok"), j
PY
}

expect "not running" 3 "no scheduler has run yet (the database has no scheduler_heartbeats table)"
sql "CREATE TABLE $schema.scheduler_heartbeats (instance text PRIMARY KEY, host text NOT NULL,
	pid int NOT NULL, started_at timestamptz NOT NULL DEFAULT now(),
	beat_at timestamptz NOT NULL DEFAULT now())"
expect "not running" 3 "no scheduler heartbeat: no scheduler is running"
sql "INSERT INTO $schema.scheduler_heartbeats (instance, host, pid) VALUES ('s1', 'h', 1)"
expect ok 0 "last heartbeat"
expect ok 0 "from s1"
sql "UPDATE $schema.scheduler_heartbeats SET beat_at = now() - interval '5 minutes'"
expect failed 3 "the scheduler has stopped or is stuck"
# The bound is three heartbeat intervals: 5 minutes is fresh for a 2-minute beat.
TOPSONGS_SCHEDULER_HEARTBEAT_MS=120000 expect ok 0 "last heartbeat"
# One live scheduler among dead ones is enough.
sql "INSERT INTO $schema.scheduler_heartbeats (instance, host, pid) VALUES ('s2', 'h', 2)"
expect ok 0 "from s2"
echo ok
