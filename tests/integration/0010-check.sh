#!/usr/bin/env bash
# `topsongs check` against the real PostgreSQL and Kafka: all required
# services ok (exit 0, JSON "ok": true); a closed Kafka or PostgreSQL port
# fails within about the timeout with exit 3 and a reason naming the refused
# address; a silent server cannot hold the check past its deadline; the
# password of pg.url never appears in any output; an unwritable lake fails.
. "$(dirname "$0")/lib.sh"
: "${TOPSONGS_PG_URL:?}"

cd "$SCRATCH" # no stray .env
export TOPSONGS_LAKE_URL="$SCRATCH/lake"
export TOPSONGS_CHECK_TIMEOUT_MS=2000
export TOPSONGS_CHECK_REQUIRED=postgres,kafka,lake
API_PORT="$(free_port)" # nothing listens there: the api is reported failed, not required
export TOPSONGS_API_LISTEN="127.0.0.1:$API_PORT"

# run NAME [flags...]: runs check, stdout in NAME.out, stderr in NAME.err,
# exit status in $rc and wall time in $ms.
run() {
	local name="$1" start
	shift
	start=$(date +%s%N)
	rc=0
	"$TOPSONGS_BIN" check "$@" >"$SCRATCH/$name.out" 2>"$SCRATCH/$name.err" || rc=$?
	ms=$((($(date +%s%N) - start) / 1000000))
}

# expect NAME PYTHON: asserts about the JSON in NAME.out; `j` is the document
# and `s` maps service names to their objects.
expect() {
	python3 - "$SCRATCH/$1.out" "$2" <<'PY' || fail "$1: $(cat "$SCRATCH/$1.out" "$SCRATCH/$1.err")"
import json, sys
j = json.load(open(sys.argv[1]))
s = {x["name"]: x for x in j["services"]}
assert [x["name"] for x in j["services"]] == ["postgres", "kafka", "lake", "api", "scheduler"], s
for x in j["services"]:
    assert set(x) == {"name", "required", "status", "latency_ms", "target", "reason"}, x
    assert x["status"] in ("ok", "failed", "not running"), x
    assert isinstance(x["latency_ms"], (int, float)) and x["latency_ms"] >= 0, x
    assert isinstance(x["required"], bool) and x["reason"], x
exec(sys.argv[2])
PY
}

# 1. Everything required is up.
run ok --json
[ "$rc" = 0 ] || fail "check exited $rc with the services up: $(cat ok.out ok.err)"
expect ok '
assert j["ok"] is True
for n in ("postgres", "kafka", "lake"):
    assert s[n]["status"] == "ok" and s[n]["required"], s[n]
assert "SELECT 1" in s["postgres"]["reason"]
assert "broker" in s["kafka"]["reason"] and "plays" in s["kafka"]["reason"]
assert s["api"]["status"] == "failed" and not s["api"]["required"]
assert "connection refused at 127.0.0.1:'"$API_PORT"'" in s["api"]["reason"], s["api"]
assert not s["scheduler"]["required"] and s["scheduler"]["status"] in ("not running", "ok", "failed")
'
[ -d lake ] || fail "the lake folder was not created"
[ -z "$(ls -A lake)" ] || fail "the lake probe left files behind: $(ls -A lake)"

run table
[ "$rc" = 0 ] || fail "table: exit $rc"
grep -Eq '^SERVICE +REQUIRED +STATUS +LATENCY +TARGET +REASON$' table.out || fail "table header: $(cat table.out)"
for n in postgres kafka lake; do
	grep -Eq "^$n +yes +ok +[0-9.]+ ms " table.out || fail "table row $n: $(cat table.out)"
done
grep -Eq '^api +no +failed ' table.out || fail "table row api: $(cat table.out)"

# 2. Kafka on a closed port: exit 3 within about the timeout, reason names it.
closed="$(free_port)"
run kafka_down --json --kafka-brokers "127.0.0.1:$closed"
[ "$rc" = 3 ] || fail "kafka down: exit $rc, expected 3"
[ "$ms" -lt 4500 ] || fail "kafka down: took $ms ms with a 2000 ms timeout"
expect kafka_down '
assert j["ok"] is False
assert s["kafka"]["status"] == "failed", s["kafka"]
assert s["kafka"]["reason"] == "connection refused at 127.0.0.1:'"$closed"'", s["kafka"]
assert s["postgres"]["status"] == "ok"
'

# 3. PostgreSQL on a closed port, with a password in the URL.
secret_url="postgresql://u:s3cr3tpw@127.0.0.1:$closed/x"
run pg_down --json --pg-url "$secret_url" --log-level debug
[ "$rc" = 3 ] || fail "pg down: exit $rc, expected 3"
[ "$ms" -lt 4500 ] || fail "pg down: took $ms ms with a 2000 ms timeout"
expect pg_down '
assert j["ok"] is False
p = s["postgres"]
assert p["status"] == "failed", p
assert p["reason"].startswith("connection refused at 127.0.0.1:'"$closed"'"), p
assert p["target"] == "postgresql://u:<redacted>@127.0.0.1:'"$closed"'/x", p
assert s["scheduler"]["status"] == "failed" and "refused" in s["scheduler"]["reason"]
'
run pg_down_table --pg-url "$secret_url" --log-level debug
[ "$rc" = 3 ] || fail "pg down (table): exit $rc"
grep -Eq '^postgres +yes +failed .*connection refused at 127\.0\.0\.1:'"$closed" pg_down_table.out ||
	fail "pg down (table): $(cat pg_down_table.out)"
# Also through the environment and as a query parameter and conninfo.
TOPSONGS_PG_URL="postgresql://u@127.0.0.1:$closed/x?password=s3cr3tpw" run pg_env --json
TOPSONGS_PG_URL="host=127.0.0.1 port=$closed password='s3cr3tpw x' dbname=x" run pg_conninfo --json
run pg_bad --json --pg-url "postgresql://u:s3cr3tpw@[::1:$closed/x"
for f in pg_down.out pg_down.err pg_down_table.out pg_down_table.err pg_env.out pg_env.err \
	pg_conninfo.out pg_conninfo.err pg_bad.out pg_bad.err; do
	[ -s "$f" ] || [ "${f%.err}" != "$f" ] || fail "$f is empty"
	if grep -q s3cr3tpw "$f"; then fail "the password leaked into $f: $(cat "$f")"; fi
done
expect pg_bad 'assert s["postgres"]["reason"].startswith("pg.url cannot be parsed"), s'

# 4. A server that accepts connections and never answers: the deadline holds.
silent_log="$SCRATCH/silent.port"
python3 - "$silent_log" <<'PY' &
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(64)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
time.sleep(120)  # never accepts: the kernel completes handshakes, nobody answers
PY
pids_to_stop+=("$!")
for _ in $(seq 1 50); do [ -s "$silent_log" ] && break; sleep 0.1; done
silent="$(cat "$silent_log")"
run silent --json --check-timeout-ms 1000 --kafka-brokers "127.0.0.1:$silent" \
	--pg-url "postgresql://topsongs@127.0.0.1:$silent/topsongs?sslmode=disable" \
	--api-listen "127.0.0.1:$silent"
[ "$rc" = 3 ] || fail "silent server: exit $rc"
[ "$ms" -lt 3500 ] || fail "silent server: took $ms ms with a 1000 ms timeout"
expect silent '
for n in ("postgres", "kafka", "api"):
    assert s[n]["status"] == "failed", s[n]
    assert s[n]["latency_ms"] < 2600, s[n]
assert "no answer from 127.0.0.1:'"$silent"' within 1000 ms" in s["postgres"]["reason"], s
assert "127.0.0.1:'"$silent"'" in s["kafka"]["reason"], s
'

# 5. Unwritable lakes. A path below a regular file fails for everyone, root too.
: >"$SCRATCH/plainfile"
run lake_file --json --lake-url "$SCRATCH/plainfile/lake"
[ "$rc" = 3 ] || fail "lake under a file: exit $rc"
expect lake_file '
l = s["lake"]
assert l["status"] == "failed" and "Not a directory" in l["reason"], l
assert "'"$SCRATCH"'/plainfile/lake" in l["reason"], l
'
# A read-only folder: root ignores permission bits, so run as nobody then.
ro="$(mktemp -d /tmp/topsongs-check-ro.XXXXXX)"
trap 'chmod -R u+w "$ro"; rm -rf "$ro"; cleanup' EXIT
mkdir "$ro/lake"
chmod 755 "$ro"
chmod 555 "$ro/lake"
if [ "$(id -u)" != 0 ]; then
	run lake_ro --json --lake-url "$ro/lake"
elif command -v runuser >/dev/null && runuser -u nobody -- test -x "$TOPSONGS_BIN"; then
	rc=0
	(cd / && runuser -u nobody -- "$TOPSONGS_BIN" check --json --lake-url "$ro/lake") \
		>"$SCRATCH/lake_ro.out" 2>"$SCRATCH/lake_ro.err" || rc=$?
else
	echo "note: cannot run as an unprivileged user; read-only lake case skipped" >&2
	exit 0
fi
[ "$rc" = 3 ] || fail "read-only lake: exit $rc: $(cat "$SCRATCH/lake_ro.out" "$SCRATCH/lake_ro.err")"
expect lake_ro '
l = s["lake"]
assert l["status"] == "failed" and "cannot write a file in '"$ro"'/lake: Permission denied" == l["reason"], l
'
[ -z "$(ls -A "$ro/lake")" ] || fail "read-only lake: files left behind"
echo "ok"
