#!/usr/bin/env bash
# The scheduler heartbeat in `topsongs check`: "not running" without the
# table or with an empty one, ok with a fresh beat, failed with a stale one;
# and with check.required=scheduler the exit status follows it. Works in a
# private schema (search_path), so the real scheduler_heartbeat is untouched.
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

expect "not running" 3 "no scheduler has run yet (the scheduler is not part of this release)"
sql "CREATE TABLE $schema.scheduler_heartbeat (scheduler_id text PRIMARY KEY, beat_at timestamptz NOT NULL)"
expect "not running" 3 "scheduler_heartbeat is empty"
sql "INSERT INTO $schema.scheduler_heartbeat VALUES ('s1', now())"
expect ok 0 "last heartbeat"
sql "UPDATE $schema.scheduler_heartbeat SET beat_at = now() - interval '5 minutes'"
expect failed 3 "the scheduler has stopped or is stuck"
echo ok
