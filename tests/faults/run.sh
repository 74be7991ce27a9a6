#!/usr/bin/env bash
# The fault-injection suite: a seeded simulator run through the whole
# pipeline (api -> Kafka -> ingest -> lake on MinIO -> scheduler flows ->
# PostgreSQL charts) while tests/faults/chaos.py SIGKILLs and restarts api,
# ingest and scheduler and restarts Kafka, PostgreSQL and MinIO; then, once
# the pipeline has drained, the balance: tests/faults/verify.py (outcome log
# against lake and charts) and tests/integration/flows_check.py (charts
# against DuckDB's recomputation over enriched/).
#
#   tests/faults/run.sh [--plays N] [--seed N] [--wire-rate N] [--hours N]
#                       [--chaos-seconds N] [--max-faults N] [--gap MIN,MAX]
#                       [--drain-seconds N] [--state DIR] [--port-base N]
#
# --plays counts the events sent, the model's client resends (1 %, same
# event_id) included. Everything runs on private services (their own
# PostgreSQL, Kafka and MinIO on loopback, ports from --port-base), so the
# restarts never touch the services of other tests. Every process is stopped by PID on exit,
# failure included. Needs TOPSONGS_BIN (default build/topsongs) and PY (the
# Python with duckdb; default var/pyenv/bin/python). Exits 0 only when the
# balance is exact; the figures go to STATE/result.json and one closing
# line "faults: ...".
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
export ROOT="${ROOT:-$(cd "$here/../.." && pwd)}"
export TOPSONGS_BIN="${TOPSONGS_BIN:-$ROOT/build/topsongs}"
export PY="${PY:-$ROOT/var/pyenv/bin/python}"

plays=1010000 seed=1 wire=4000 hours=24 chaos_s=360 max_faults=60 gap="3,8"
# Ports below Linux's ephemeral range (32768 and up), where any outgoing
# connection (there are thousands during a test run) can hold a port.
drain_s=600 state="$ROOT/var/faults" port_base=$((31050 + ${TS_TEST_PORT_OFFSET:-0}))
while [ $# -gt 0 ]; do
	case "$1" in
	--plays) plays="$2" ;;
	--seed) seed="$2" ;;
	--wire-rate) wire="$2" ;;
	--hours) hours="$2" ;;
	--chaos-seconds) chaos_s="$2" ;;
	--max-faults) max_faults="$2" ;;
	--gap) gap="$2" ;;
	--drain-seconds) drain_s="$2" ;;
	--state) state="$2" ;;
	--port-base) port_base="$2" ;;
	*) echo "usage: see the head of $0" >&2; exit 2 ;;
	esac
	shift 2
done

# Private everything: none of the caller's TOPSONGS_* settings apply.
for v in $(compgen -e | grep '^TOPSONGS_' | grep -v '^TOPSONGS_BIN$'); do unset "$v"; done
rm -rf "$state"
mkdir -p "$state/logs" "$state/pids"
state="$(cd "$state" && pwd)"
export SCRATCH="$state"
. "$ROOT/tests/integration/lib.sh"
. "$ROOT/tests/integration/flows_lib.sh"

minio_port=$port_base kafka_port=$((port_base + 2)) pg_port=$((port_base + 4))
api_port=$((port_base + 6)) metrics_port=$((port_base + 7))
chaos_pid=""
t_start=$(date +%s)

note() { printf 'faults: %s\n' "$*"; }

stop_all() {
	local rc=$? f
	[ -n "$chaos_pid" ] && kill -TERM "$chaos_pid" 2>/dev/null && wait "$chaos_pid" 2>/dev/null
	for f in "$state"/pids/*; do # children of a chaos driver that did not clean up
		[ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null
		rm -f "$f"
	done
	cleanup
	"$ROOT/scripts/minio.sh" stop "$state/minio" >/dev/null 2>&1 || true
	"$ROOT/scripts/kafka.sh" stop "$state/kafka" >/dev/null 2>&1 || true
	"$ROOT/scripts/pg.sh" destroy "$state/pg" >/dev/null 2>&1 || true
	rm -rf "$state/kafka/data" "$state/minio/data"
	exit $rc
}
trap stop_all EXIT

note "services: PostgreSQL :$pg_port, Kafka :$kafka_port, MinIO :$minio_port (state $state)"
"$ROOT/scripts/pg.sh" start "$state/pg" "$pg_port" 2>>"$state/logs/services.log" || fail "PostgreSQL"
"$ROOT/scripts/kafka.sh" start "$state/kafka" "$kafka_port" 2>>"$state/logs/services.log" || fail "Kafka"
"$ROOT/scripts/minio.sh" start "$state/minio" "$minio_port" 2>>"$state/logs/services.log" || fail "MinIO"
"$ROOT/scripts/minio.sh" mb "$minio_port" faults 2>>"$state/logs/services.log" || fail "bucket"

export TOPSONGS_PG_URL="postgresql://topsongs@127.0.0.1:$pg_port/topsongs"
export TOPSONGS_KAFKA_BROKERS="127.0.0.1:$kafka_port"
export TOPSONGS_S3_ENDPOINT="http://127.0.0.1:$minio_port"
export TOPSONGS_S3_ACCESS_KEY=topsongs-test TOPSONGS_S3_SECRET_KEY=topsongs-test-secret
export TOPSONGS_LAKE_URL="s3://faults/lake"
export TOPSONGS_API_LISTEN="127.0.0.1:$api_port"
export TOPSONGS_LOG_FORMAT=text
# A restarted ingest takes its partitions back at once (static membership);
# a killed scheduler's runs are taken over within two seconds.
export TOPSONGS_INGEST_INSTANCE_ID=faults-ingest TOPSONGS_INGEST_METRICS_LISTEN="127.0.0.1:$metrics_port"
export TOPSONGS_INGEST_FLUSH_MS=500
# The api journals its 202s, so a SIGKILLed api's counts are recovered by its
# restart and the ledger balances exactly (docs/ledger.md).
export TOPSONGS_API_JOURNAL_DIR="$state/api-journal"
export TOPSONGS_SCHEDULER_SCHEDULES='enrich=every 1s;aggregate=every 1s'
export TOPSONGS_SCHEDULER_HEARTBEAT_MS=300 TOPSONGS_SCHEDULER_LEASE_MS=3000
export TOPSONGS_SCHEDULER_RETRY_BASE_MS=200 TOPSONGS_SCHEDULER_RETRY_MAX_MS=2000

"$TOPSONGS_BIN" db migrate >>"$state/logs/setup.log" 2>&1 || fail "db migrate"
"$TOPSONGS_BIN" catalog load >>"$state/logs/setup.log" 2>&1 || fail "catalog load"

cat >"$state/chaos.json" <<JSON
{"seed": $seed, "root": "$ROOT", "state": "$state", "bin": "$TOPSONGS_BIN",
 "seconds": $chaos_s, "max_faults": $max_faults, "min_gap": ${gap%,*}, "max_gap": ${gap#*,},
 "summary": "$state/chaos-summary.json",
 "children": {"api": ["api"], "ingest": ["ingest"], "scheduler": ["scheduler"]},
 "services": {
  "kafka": {"script": "kafka.sh", "dir": "$state/kafka", "port": $kafka_port},
  "postgres": {"script": "pg.sh", "dir": "$state/pg", "port": $pg_port},
  "minio": {"script": "minio.sh", "dir": "$state/minio", "port": $minio_port}}}
JSON
python3 "$here/chaos.py" "$state/chaos.json" >"$state/logs/chaos.log" 2>&1 &
chaos_pid=$!
for _ in $(seq 1 300); do
	curl -fs "http://127.0.0.1:$api_port/readyz" >/dev/null 2>&1 && break
	kill -0 "$chaos_pid" 2>/dev/null || fail "the chaos driver died: $(tail -5 "$state/logs/chaos.log")"
	sleep 0.1
done

# The plays: a back-fill of the last `hours` hours, paced to `wire` plays a
# second, retried with the same bytes (so the same event_id) until 202 —
# 100 resends, 30 s apart at most, outlast any outage the chaos makes.
rate=$(python3 -c "print(round($plays / ($hours * 3600) * 1.05, 4))")
speed=$(python3 -c "print(round($wire / $rate, 2))")
note "simulate: $plays plays over ${hours}h at ~$wire/s (rate $rate, speed $speed, seed $seed)"
sim_rc=0
"$TOPSONGS_BIN" simulate --seed "$seed" --from "-${hours}h" --to now --rate "$rate" --speed "$speed" \
	--count "$plays" --retries 100 --target "http://127.0.0.1:$api_port" \
	--outcome-log "$state/outcomes.tsv" >"$state/logs/simulate.log" 2>&1 || sim_rc=$?
t_sent=$(date +%s)
note "simulate exited $sim_rc after $((t_sent - t_start)) s: $(grep 'simulate:' "$state/logs/simulate.log" | tail -n 2 | tr '\n' ' ')"

# Let the chaos finish (bounded by its own limits), then drain.
for _ in $(seq 1 $((chaos_s * 2 + 600))); do
	[ "$(python3 -c "import json; print(json.load(open('$state/chaos-summary.json'))['done'])" 2>/dev/null)" = True ] && break
	kill -0 "$chaos_pid" 2>/dev/null || fail "the chaos driver died: $(tail -5 "$state/logs/chaos.log")"
	sleep 0.5
done

# Drained: ingest has no lag, has committed nothing new for 3 s, and no
# closed hour waits for compaction (a compaction interrupted by a fault
# leaves its inputs in the bucket until its next round, every
# ingest.compact-interval-s: docs/ingest.md); then an enrich that started
# after that and an aggregate after that enrich.
# Empty while ingest restarts (after a long store or database outage it
# exits and the supervisor starts it again): under pipefail a failed curl
# would end this script silently.
metric() { { curl -fs "http://127.0.0.1:$metrics_port/metrics" 2>/dev/null || true; } | awk -v m="$1" '$1 == m {print $2}'; }
drained=0 last="" stable=0 end=$(($(date +%s) + drain_s))
while [ "$(date +%s)" -lt "$end" ]; do
	lag="$(metric topsongs_ingest_consumer_lag_records)"
	rows="$(q "SELECT coalesce(sum(rows), 0) FROM ingest_files WHERE published" 2>/dev/null || echo x)"
	due="$(q "SELECT count(*) FROM lake_hours WHERE closed_at IS NOT NULL AND files > 1" 2>/dev/null || echo x)"
	if [ "$lag" = 0 ] && [ "$due" = 0 ] && [ "$rows" = "$last" ]; then stable=$((stable + 1)); else stable=0; fi
	last="$rows"
	[ "$stable" -ge 6 ] && { drained=1; break; }
	sleep 0.5
done
[ "$drained" = 1 ] || fail "ingest did not drain in ${drain_s}s (lag ${lag:-?}, rows $rows, closed hours due for compaction ${due:-?})"
ingested_at="$(q "SELECT now()")"
done_sql="SELECT EXISTS (SELECT 1 FROM flow_runs e JOIN flow_runs a ON a.started_at > e.finished_at
	WHERE e.flow = 'enrich' AND e.state = 'succeeded' AND e.started_at > '$ingested_at'
	AND a.flow = 'aggregate' AND a.state = 'succeeded')"
while [ "$(q "$done_sql")" != t ]; do
	[ "$(date +%s)" -lt "$end" ] || fail "no enrich + aggregate after the drain in ${drain_s}s"
	sleep 0.5
done
t_drained=$(date +%s)
note "drained $((t_drained - t_sent)) s after the simulator ended ($rows rows in raw/)"
kill -TERM "$chaos_pid"
wait "$chaos_pid" || fail "the chaos driver exited $?"
chaos_pid=""

# The raw/ listing equals the published files of the bookkeeping: no
# leftover of a killed batch or compaction is visible.
"$TOPSONGS_BIN" store ls raw/ | cut -f2 | sort >"$state/raw-listed.txt"
q "SELECT DISTINCT coalesce(compacted_into, path) FROM ingest_files WHERE published" | sort >"$state/raw-booked.txt"
listing_diff=$(comm -3 "$state/raw-listed.txt" "$state/raw-booked.txt" | wc -l)

note "verifying"
dump_tables "$state/dump"
mirror="$(mirror_lake "$TOPSONGS_LAKE_URL")"
verify_rc=0 charts_rc=0
"$PY" "$here/verify.py" "$state/outcomes.tsv" "$mirror" "$state/dump" "$state/verify.json" \
	>"$state/logs/verify.log" 2>&1 || verify_rc=$?
"$PY" "$ROOT/tests/integration/flows_check.py" "$mirror" "$state/dump" >"$state/logs/charts.log" 2>&1 ||
	charts_rc=$?
cat "$state/logs/verify.log" "$state/logs/charts.log"

# The ledger (docs/ledger.md) must agree: once nothing is in flight, no
# mismatch at all — the counts of each SIGKILLed api were recovered from its
# journal — and the plays it counts into the charts are exactly the accepted
# ones the verifier found.
ledger_rc=0
for _ in $(seq 1 60); do
	ledger_rc=0
	"$TOPSONGS_BIN" ledger --json --from "$(date -u -d "-$((hours + 2)) hours" +%Y-%m-%dT%H)" \
		--to "$(date -u -d "+1 hour" +%Y-%m-%dT%H)" >"$state/ledger.json" \
		2>"$state/logs/ledger.log" || ledger_rc=$?
	[ "$ledger_rc" -le 1 ] && [ "$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["status"])' "$state/ledger.json")" != in_flight ] && break
	sleep 1
done
ledger_ok=0
"$PY" - "$state/ledger.json" "$state/verify.json" "$ledger_rc" >"$state/logs/ledger-check.log" 2>&1 <<'PY' || ledger_ok=$?
import json, sys
l = json.load(open(sys.argv[1]))
v = json.load(open(sys.argv[2]))
bad = [d for d in l["differences"] if d["class"] == "mismatch"]
print("ledger: status=%s exit=%s totals=%s differences=%s" % (l["status"], sys.argv[3], l["totals"],
      sorted({(d["kind"], d["class"]) for d in l["differences"]})))
if l["status"] == "in_flight" or l["counts"]["unexplained"] or bad:
    sys.exit("the ledger does not balance: %s" % (bad or l["counts"]))
if l["totals"]["enriched"] != v["accepted_plays"] or l["totals"]["hourly"] != v["accepted_plays"]:
    sys.exit("the ledger counts %d enriched / %d hourly plays, the verifier %d accepted" % (
        l["totals"]["enriched"], l["totals"]["hourly"], v["accepted_plays"]))
PY
cat "$state/logs/ledger-check.log"
t_end=$(date +%s)

"$PY" - "$state" "$sim_rc" "$listing_diff" "$charts_rc" $((t_end - t_start)) <<'PY'
import json, sys
state, sim_rc, listing, charts_rc, secs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
c = json.load(open(f"{state}/chaos-summary.json"))
try:
    v = json.load(open(f"{state}/verify.json"))
except FileNotFoundError:
    v = {"accepted_plays": 0, "mismatch_total": -1, "mismatches": {"verify.py failed": 1}}
r = {"accepted_plays": v["accepted_plays"], "faults": c["faults"], "faults_total": c["total"],
     "self_exits": c["self_exits"], "crashes": c["crashes"], "service_errors": c["service_errors"],
     "simulate_exit": sim_rc, "raw_listing_vs_bookkeeping": listing,
     "charts_vs_recomputation": "equal" if charts_rc == 0 else "DIFFER",
     "mismatches": v["mismatch_total"], "duration_s": secs, "verify": v}
json.dump(r, open(f"{state}/result.json", "w"), indent=1)
print("faults: plays=%d faults=%d (%s) mismatches=%d charts=%s crashes=%d self-exits=%d duration=%ds" % (
    r["accepted_plays"], c["total"], " ".join(f"{k}={n}" for k, n in c["faults"].items()),
    v["mismatch_total"], r["charts_vs_recomputation"], len(c["crashes"]), len(c["self_exits"]), secs))
PY
grep -E 'chaos over|exited by itself|stopped: [^0]' "$state/logs/chaos.log" || true

[ "$sim_rc" = 0 ] || fail "the simulator exited $sim_rc (unsettled or given-up plays)"
# The outcome log holds one A line per accepted event, as the totals count.
sim_acc="$(sed -n 's/.* accepted=\([0-9]*\) .*/\1/p' "$state/logs/simulate.log" | tail -n 1)"
[ "$sim_acc" = "$(grep -c '^A' "$state/outcomes.tsv")" ] ||
	fail "the simulator counted $sim_acc accepted events, its outcome log $(grep -c '^A' "$state/outcomes.tsv")"
[ "$listing_diff" = 0 ] || fail "raw/ listing and bookkeeping differ by $listing_diff files: $(comm -3 "$state/raw-listed.txt" "$state/raw-booked.txt" | head -3)"
[ "$verify_rc" = 0 ] || fail "the balance does not hold (see above)"
[ "$charts_rc" = 0 ] || fail "the charts differ from the recomputation (see above)"
[ "$ledger_ok" = 0 ] || fail "the ledger disagrees (see above): $(tail -1 "$state/logs/ledger-check.log")"
[ "$(python3 -c "import json; print(len(json.load(open('$state/chaos-summary.json'))['crashes']))")" = 0 ] ||
	fail "a pipeline process crashed or did not stop cleanly: $(python3 -c "import json; print(json.load(open('$state/chaos-summary.json'))['crashes'])")"
note "ok"
