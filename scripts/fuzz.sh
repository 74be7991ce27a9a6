#!/usr/bin/env bash
# `make fuzz [FUZZ_SECONDS=N]`: every libFuzzer target (tests/fuzz/fuzz_*.c)
# for N seconds (default 60) with ASan + UBSan, starting from its committed
# corpus. New interesting inputs land in var/fuzz/NAME; crashes in
# var/fuzz/crashes. Prints executions and coverage per target.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
seconds="${1:-${FUZZ_SECONDS:-60}}"
[ -n "$seconds" ] || seconds=60
scripts/setup.sh test
make -s FUZZ=1 -j2 fuzz-build
mkdir -p var/fuzz/crashes
for t in build/fuzz/fuzz_*; do
	[ -x "$t" ] && [ -f "$t" ] || continue
	name="${t##*/fuzz_}"
	mkdir -p "var/fuzz/$name"
	"$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix=var/fuzz/crashes/ "var/fuzz/$name" "tests/fuzz/corpus/$name" \
		>"var/fuzz/$name.log" 2>&1 || { echo "fuzz $name: FAILED, see var/fuzz/$name.log"; exit 1; }
	execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "var/fuzz/$name.log")"
	cov="$(grep -o 'cov: [0-9]*' "var/fuzz/$name.log" | tail -n 1)"
	echo "fuzz $name: ${seconds}s, $execs executions, $cov, no crash"
done
