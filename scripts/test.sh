#!/usr/bin/env bash
# `make test`: every test of the project, ending with one line
# "N passed, N failed" (see docs/CONTRIBUTING-tests.md).
#
# Environment: TEST_FILTER=substring runs only matching integration scripts;
# TEST_JOBS (default 2) integration scripts at a time;
# SKIP_SAN=1 skips the sanitizer pass; FUZZ_SECONDS (default 2) per target;
# TS_TEST_PORT_OFFSET=N moves every service port by N, so two checkouts can
# run their tests on one machine at the same time.
set -uo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export ROOT="$root"
state="$root/var/test"
logs="$state/logs"
passed=0
failed=0
failures=()

note() { printf '== %s\n' "$*"; }

record() { # name rc logfile [seconds]
	local took="${4:+ (${4} s)}"
	if [ "$2" -eq 0 ]; then
		passed=$((passed + 1))
		printf 'ok   %s%s\n' "$1" "$took"
	else
		failed=$((failed + 1))
		failures+=("$1")
		printf 'FAIL %s%s (log: %s)\n' "$1" "$took" "$3"
		tail -n 25 "$3" | sed 's/^/     | /'
	fi
}

log_of() { echo "$logs/$(echo "$1" | tr '/ ' '__').log"; } # step name -> its log

run_step() { # name command...
	local name="$1" log
	shift
	log="$(log_of "$name")"
	local t0=$SECONDS
	"$@" >"$log" 2>&1
	local rc=$?
	record "$name" $rc "$log" $((SECONDS - t0))
	return $rc
}

# Adds a unit-test binary's own counts to ours.
run_unit() { # label binary
	local log="$logs/$1.log" line p f
	"$2" >"$log" 2>&1
	line="$(grep -E '^unit: [0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)"
	if [ -z "$line" ]; then
		record "$1 (crashed)" 1 "$log"
		return
	fi
	p="$(echo "$line" | sed -E 's/unit: ([0-9]+) passed.*/\1/')"
	f="$(echo "$line" | sed -E 's/.*passed, ([0-9]+) failed/\1/')"
	passed=$((passed + p))
	failed=$((failed + f))
	printf '%-4s %s: %s\n' "$([ "$f" -eq 0 ] && echo ok || echo FAIL)" "$1" "$line"
	if [ "$f" -ne 0 ]; then
		failures+=("$1")
		grep -E '^FAIL|^  ' "$log" | head -n 40 | sed 's/^/     | /'
	fi
}

run_fuzz() {
	local t name corpus tmp
	make -s FUZZ=1 -j2 fuzz-build >"$logs/fuzz-build.log" 2>&1 ||
		{ record "fuzz build" 1 "$logs/fuzz-build.log"; return; }
	for t in build/fuzz/fuzz_*; do
		[ -x "$t" ] || continue
		name="${t##*/fuzz_}"
		corpus="tests/fuzz/corpus/$name"
		tmp="$(mktemp -d)"
		run_step "fuzz $name (corpus replay + ${FUZZ_SECONDS:-2}s)" \
			"$t" -max_total_time="${FUZZ_SECONDS:-2}" -timeout=10 -rss_limit_mb=2048 \
			"$tmp" "$corpus"
		rm -rf "$tmp"
	done
}

# Integration scripts run TEST_JOBS at a time (default 2): each has its own
# database, topic, bucket and scratch folder, and stops only services of its
# own. A script that needs the machine to itself says so with a line
# starting "# exclusive:" and runs alone.
declare -A job_name=() job_log=() job_scratch=() job_t0=()
running=0 # scripts started and not yet reaped

start_job() { # binary label script
	local name log scratch pid
	name="$2$(basename "$3" .sh)"
	log="$(log_of "$name")"
	scratch="$(mktemp -d "$state/scratch.XXXXXX")"
	TOPSONGS_BIN="$1" SCRATCH="$scratch" bash "$3" >"$log" 2>&1 &
	pid=$!
	job_name[$pid]="$name"
	job_log[$pid]="$log"
	job_scratch[$pid]="$scratch"
	job_t0[$pid]=$SECONDS
	running=$((running + 1))
}

reap_job() { # waits for one script to end and records it
	local pid rc
	wait -n -p pid
	rc=$?
	[ -n "${pid:-}" ] || { running=0; return 1; } # no script left
	record "${job_name[$pid]}" "$rc" "${job_log[$pid]}" $((SECONDS - job_t0[$pid]))
	# A failed script's folder (its processes' logs) stays for a look.
	if [ "$rc" = 0 ]; then
		rm -rf "${job_scratch[$pid]}"
	else
		echo "     | scratch folder kept: ${job_scratch[$pid]}"
	fi
	running=$((running - 1))
}

run_integration() { # binary label
	local bin="$1" label="$2" t name jobs="${TEST_JOBS:-2}"
	for t in tests/integration/[0-9][0-9][0-9][0-9]-*.sh; do
		[ -e "$t" ] || continue
		name="$(basename "$t" .sh)"
		case "$name" in *"${TEST_FILTER:-}"*) ;; *) continue ;; esac
		if grep -q '^# exclusive:' "$t"; then
			while [ $running -gt 0 ]; do reap_job; done
			start_job "$bin" "$label" "$t"
			reap_job
			continue
		fi
		while [ $running -ge "$jobs" ]; do reap_job; done
		start_job "$bin" "$label" "$t"
	done
	while [ $running -gt 0 ]; do reap_job; done
}

stop_services() {
	"$root/scripts/minio.sh" stop "$state/minio" >/dev/null 2>&1 || true
	"$root/scripts/services.sh" stop "$state" >/dev/null 2>&1 || true
}

main() {
	note "setting up (installs only what is missing)"
	scripts/setup.sh test || { echo "0 passed, 1 failed"; exit 1; }
	[ -x scripts/pyenv.sh ] && { scripts/pyenv.sh >/dev/null || { echo "pyenv failed"; echo "0 passed, 1 failed"; exit 1; }; }
	export PY="$root/var/pyenv/bin/python"
	# The scripts' python3 is the virtualenv's interpreter itself: where
	# python3 is a pyenv shim, every call also starts bash and pyenv (about
	# 0.1 s idle, up to 1 s on a busy machine), and the scripts call it
	# hundreds of times.
	[ -x "$root/var/pyenv/bin/python3" ] && export PATH="$root/var/pyenv/bin:$PATH"
	stop_services
	scripts/pg.sh destroy "$state/pg" >/dev/null 2>&1 || true
	rm -rf "$state"
	mkdir -p "$logs"

	note "build"
	# Without a fresh build every later step would test stale binaries.
	run_step "build" make -j2 all unit || { echo "$passed passed, $failed failed"; exit 1; }
	run_step "clang-format" make -s format-check
	note "unit tests"
	run_unit unit build/unit_tests
	note "fuzz targets"
	run_fuzz
	note "dashboard (web/): Vitest, and the build the browser test serves"
	run_step "web: vitest" scripts/web.sh test
	run_step "web: build" scripts/web.sh build

	note "services (PostgreSQL, Kafka) on loopback, state in $state"
	local off="${TS_TEST_PORT_OFFSET:-0}"
	local pg_port=$((25432 + off)) kafka_port=$((29092 + off)) minio_port=$((29000 + off))
	export TS_PG_PORT=$pg_port TS_KAFKA_PORT=$kafka_port TS_KAFKA_STATE="$state/kafka"
	trap stop_services EXIT
	run_step "services start" scripts/services.sh start "$state"
	run_step "minio start" scripts/minio.sh start "$state/minio" $minio_port
	export TS_MINIO_PORT=$minio_port TS_MINIO_STATE="$state/minio"
	export TOPSONGS_S3_ENDPOINT="http://127.0.0.1:$minio_port"
	export TOPSONGS_S3_ACCESS_KEY=topsongs-test TOPSONGS_S3_SECRET_KEY=topsongs-test-secret
	export TOPSONGS_KAFKA_BROKERS="127.0.0.1:$kafka_port"
	export TOPSONGS_PG_URL="postgresql://topsongs@127.0.0.1:$pg_port/topsongs"
	export TOPSONGS_LOG_FORMAT=text
	note "integration tests"
	run_integration "$root/build/topsongs" ""

	if [ "${SKIP_SAN:-0}" != 1 ]; then
		note "sanitizers (ASan + UBSan)"
		run_step "build (sanitizers)" make -j2 SAN=1 all unit || {
			echo "$passed passed, $failed failed"
			exit 1
		}
		export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:halt_on_error=1"
		export LSAN_OPTIONS="suppressions=$root/tests/lsan.supp"
		export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
		run_unit "unit (sanitizers)" build/san/unit_tests
		run_integration "$root/build/san/topsongs" "san: "
	fi

	echo
	[ ${#failures[@]} -eq 0 ] || printf 'failed: %s\n' "${failures[@]}"
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}

main "$@"
