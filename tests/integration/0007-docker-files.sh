#!/usr/bin/env bash
# The Dockerfile and docker-compose.yaml, checked statically (no Docker
# engine runs here): scripts/check-docker.py passes on the real files and
# catches each kind of mistake planted in a copy.
. "$(dirname "$0")/lib.sh"
: "${PY:?}"

"$PY" "$ROOT/scripts/check-docker.py" "$ROOT" "$TOPSONGS_BIN" || fail "the Docker files have problems"

# plant NAME PYTHON-EDIT EXPECTED: a copy of the project's files with one
# mistake; the checker must fail and name it.
plant() {
	local name="$1" edit="$2" expected="$3" dir="$SCRATCH/$1"
	mkdir -p "$dir"
	for f in Makefile VERSION src web .env.example Dockerfile docker-compose.yaml; do
		[ -e "$ROOT/$f" ] && cp -r "$ROOT/$f" "$dir/" 2>/dev/null
	done
	"$PY" - "$dir" <<PY || fail "$name: cannot plant"
import re, sys
d = sys.argv[1]
def edit(f, old, new):
    s = open(f"{d}/{f}").read()
    assert old in s, (f, old)
    open(f"{d}/{f}", "w").write(s.replace(old, new, 1))
$edit
PY
	if "$PY" "$ROOT/scripts/check-docker.py" "$dir" "$TOPSONGS_BIN" >"$dir/out" 2>&1; then
		fail "$name: the checker passed a planted mistake"
	fi
	grep -qE -- "$expected" "$dir/out" || fail "$name: expected '$expected' in: $(cat "$dir/out")"
}

plant typo-variable 'edit("docker-compose.yaml", "TOPSONGS_LOG_FORMAT: json", "TOPSONGS_LOG_FROMAT: json")' \
	"TOPSONGS_LOG_FROMAT is not in the configuration table"
plant undeclared-variable 'edit("docker-compose.yaml", "${SIM_RATE:-50}", "${SIMRATE:-50}")' \
	"SIMRATE} is neither"
plant undeclared-volume 'edit("docker-compose.yaml", "  pg-data:\n", "")' "volume pg-data is not declared"
plant wrong-port 'edit("docker-compose.yaml", "TOPSONGS_API_LISTEN: 0.0.0.0:8080", "TOPSONGS_API_LISTEN: 0.0.0.0:9090")' \
	"does not probe the api port 9090"
plant no-healthcheck 'edit("docker-compose.yaml", "      test: [\"CMD\", \"pg_isready\", \"-U\", \"topsongs\", \"-d\", \"topsongs\"]\n      interval: 5s\n      timeout: 5s\n      retries: 12\n", "      disable: true\n")' \
	"postgres has no healthcheck|waits for postgres"
plant unknown-command 'edit("docker-compose.yaml", "command: [\"ingest\"]", "command: [\"ingestt\"]")' \
	"is not a topsongs command"
plant root-user 'edit("Dockerfile", "USER topsongs", "USER root")' "runs as root"
plant unpinned-base 'edit("Dockerfile", "FROM debian:12-slim AS runtime", "FROM debian AS runtime")' "not pinned"
plant missing-runtime-lib 'edit("Dockerfile", "libzstd1 ", "")' "does not install libzstd1"
plant apt-lists 'edit("Dockerfile", "    && rm -rf /var/lib/apt/lists/* \\\n    && useradd", "    && useradd")' "apt lists not removed"
plant bad-stage 'edit("Dockerfile", "COPY --from=web", "COPY --from=webb")' "names no earlier stage"
echo "ok: the Docker files pass, and 11 planted mistakes are each caught"
