#!/usr/bin/env bash
# `make fuzz [FUZZ_SECONDS=N]`: every libFuzzer target (tests/fuzz/fuzz_*.c)
# for N seconds (default 60) with ASan + UBSan, starting from its committed
# corpus. New interesting inputs land in var/fuzz/NAME; crashes in
# var/fuzz/crashes. Prints executions, executions per second and coverage
# (libFuzzer's cov = edges, ft = features) per target; the summary is also
# written to var/fuzz/summary.txt.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
seconds="${1:-${FUZZ_SECONDS:-60}}"
[ -n "$seconds" ] || seconds=60
scripts/setup.sh test
make -s FUZZ=1 -j2 fuzz-build
mkdir -p var/fuzz/crashes
: >var/fuzz/summary.txt
failed=0
for t in build/fuzz/fuzz_*; do
	[ -x "$t" ] && [ -f "$t" ] || continue
	name="${t##*/fuzz_}"
	mkdir -p "var/fuzz/$name"
	"$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix=var/fuzz/crashes/ "var/fuzz/$name" "tests/fuzz/corpus/$name" \
		>"var/fuzz/$name.log" 2>&1 || {
		echo "fuzz $name: FAILED, see var/fuzz/$name.log" | tee -a var/fuzz/summary.txt
		failed=1
		continue
	}
	execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "var/fuzz/$name.log")"
	rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "var/fuzz/$name.log")"
	# The last status line holds the final coverage: cov (edges) and ft (features).
	cov="$(grep -Eo 'cov: [0-9]+ ft: [0-9]+' "var/fuzz/$name.log" | tail -n 1)"
	corpus="$(grep -Eo 'corp: [0-9]+/[0-9]+[a-zA-Z]*' "var/fuzz/$name.log" | tail -n 1)"
	echo "fuzz $name: ${seconds}s, $execs executions, $rate exec/s, $cov, $corpus, no crash" | tee -a var/fuzz/summary.txt
done
exit $failed
