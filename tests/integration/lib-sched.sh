# Helpers for the scheduler scripts (05xx, sourced after lib.sh). Each
# script works in a PostgreSQL database of its own, so its run history
# starts empty, nothing else sees it, and its advisory locks (which are per
# database, not per schema) are its own while other scripts run beside it;
# the binary migrates it.
: "${TOPSONGS_PG_URL:?}"
command -v psql >/dev/null || fail "psql is not installed"

db="sched_$(basename "$0" .sh | tr -c 'a-z0-9\n' '_')_$$"
admin_url="$TOPSONGS_PG_URL"
base_url="${TOPSONGS_PG_URL%/*}/$db"
export TOPSONGS_PG_URL="$base_url"
export TOPSONGS_LAKE_URL="$SCRATCH/lake"
# Short intervals so that the scenarios take seconds.
export TOPSONGS_SCHEDULER_HEARTBEAT_MS=200 TOPSONGS_SCHEDULER_LEASE_MS=1500
export TOPSONGS_SCHEDULER_RETRY_BASE_MS=100 TOPSONGS_SCHEDULER_RETRY_MAX_MS=400

# q SQL: one value or rows (|-separated), in the script's database.
q() {
	PGOPTIONS="-cclient_min_messages=warning" psql "$base_url" -v ON_ERROR_STOP=1 -qAtc "$1"
}
psql "$admin_url" -v ON_ERROR_STOP=1 -qAtc "CREATE DATABASE $db" >/dev/null ||
	fail "cannot create database $db"
trap 'cleanup; psql "$admin_url" -qAtc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true' EXIT
"$TOPSONGS_BIN" flows runs >/dev/null 2>&1 || fail "flows runs (which migrates) failed"

# wait_for SECONDS SQL: until SQL gives 't' (fails after SECONDS).
wait_for() {
	local i
	for i in $(seq 1 $(($1 * 10))); do
		[ "$(q "$2" 2>/dev/null)" = t ] && return 0
		sleep 0.1
	done
	fail "waited $1 s for: $2"
}

# start_scheduler NAME [flags...]: a scheduler in the background, its log in
# $SCRATCH/NAME.log, its PID in ${SCHED_PID[NAME]}.
declare -A SCHED_PID
start_scheduler() {
	local name="$1"
	shift
	"$TOPSONGS_BIN" scheduler --scheduler-instance-id "$name" "$@" >>"$SCRATCH/$name.log" 2>&1 &
	SCHED_PID[$name]=$!
	pids_to_stop+=("$!")
}

# stop_scheduler NAME: SIGTERM, then its exit status must be 0 within 20 s.
stop_scheduler() {
	local pid="${SCHED_PID[$1]}" rc=0 i
	kill -TERM "$pid"
	for i in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$pid" 2>/dev/null && fail "scheduler $1 did not stop within 20 s of SIGTERM"
	wait "$pid" || rc=$?
	[ "$rc" = 0 ] || { tail -n 20 "$SCRATCH/$1.log" >&2; fail "scheduler $1 exited $rc after SIGTERM"; }
}

# The flows of this release may not be built yet ("not built yet"): the
# scheduler's mechanics are tested either way; whether a run that reaches the
# real flow succeeds is checked once the flow works.
# The probe runs in a schema of its own, so it leaves no row here.
flow_not_built() { # FLOW
	local rc=0 probe="probe_$$"
	q "CREATE SCHEMA IF NOT EXISTS $probe"
	TOPSONGS_PG_URL="$base_url?options=-csearch_path%3D$probe" \
		"$TOPSONGS_BIN" flows run "$1" >"$SCRATCH/probe.out" 2>&1 || rc=$?
	q "DROP SCHEMA $probe CASCADE"
	[ "$rc" != 0 ] && grep -q "not built yet" "$SCRATCH/probe.out"
}
