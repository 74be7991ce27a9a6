#!/usr/bin/env bash
# The fault-injection suite in short (make test-faults is the long one):
# 30,000 plays through api -> Kafka -> ingest -> MinIO lake -> scheduler
# flows -> PostgreSQL while the chaos driver kills api, ingest and scheduler
# and restarts Kafka, PostgreSQL and MinIO, each once (six faults, seeded
# order); then every accepted play must be in the lake and the charts
# exactly once and the charts equal DuckDB's recomputation. It runs on
# services of its own (tests/faults/run.sh), so the shared ones are never
# restarted. About two minutes: the broker restart alone takes ~25 s.
# Then the verifier is shown to fail on a doctored copy of the evidence: a
# play accepted but absent, a play present but never sent, a chart count
# off by one.
# exclusive: its own Kafka, PostgreSQL and MinIO under a chaos driver need
# the machine's two cores (scripts/test.sh runs it alone).
set -euo pipefail
: "${TOPSONGS_BIN:?}" "${SCRATCH:?}" "${ROOT:?}" "${PY:?}"
state="$SCRATCH/faults"
"$ROOT/tests/faults/run.sh" --plays 30000 --hours 4 --wire-rate 1000 --seed 8 \
	--chaos-seconds 100 --max-faults 6 --gap 1.5,4 --drain-seconds 120 \
	--state "$state" --port-base $((31000 + ${TS_TEST_PORT_OFFSET:-0}))

fail() { echo "FAIL: $*" >&2; exit 1; }
[ "$("$PY" -c "import json; print(json.load(open('$state/chaos-summary.json'))['total'])")" -ge 6 ] ||
	fail "fewer than six faults injected"
mirror="$(ls -d "$state"/mirror.* | head -n 1)"
doctored() { # NAME EXPECTED-MISMATCH: verify.py must fail and name it
	local rc=0
	"$PY" "$ROOT/tests/faults/verify.py" "$SCRATCH/o.tsv" "$mirror" "$SCRATCH/d" >"$SCRATCH/v.log" 2>&1 || rc=$?
	[ "$rc" = 1 ] && grep -q "MISMATCH $2" "$SCRATCH/v.log" ||
		fail "verify.py did not catch $1 (exit $rc): $(tail -3 "$SCRATCH/v.log")"
}
reset() { cp "$state/outcomes.tsv" "$SCRATCH/o.tsv"; rm -rf "$SCRATCH/d"; cp -r "$state/dump" "$SCRATCH/d"; }
reset
printf 'A\t00000000-0000-4000-8000-000000000000\tEU\t%s\t1\n' "$(date -u +%Y-%m-%dT%H:00:00Z)" >>"$SCRATCH/o.tsv"
doctored "an accepted play missing" "accepted plays missing from raw/"
reset
grep -v "^A	$(grep -m1 '^A' "$state/outcomes.tsv" | cut -f2)	" "$state/outcomes.tsv" >"$SCRATCH/o.tsv"
doctored "a play nobody sent" "raw/ rows never sent"
reset
awk -F, 'BEGIN { OFS = "," } NR == 1 { $4 = $4 + 1 } { print }' "$state/dump/plays_hourly.csv" >"$SCRATCH/d/plays_hourly.csv"
doctored "a chart count off by one" "region-hours whose plays_hourly sum differs"
echo "ok: the balance holds under faults, and the verifier catches a doctored one"
