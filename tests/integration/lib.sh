# Helpers for the integration scripts (sourced). Every process a script
# starts is stopped by PID when the script exits.
set -euo pipefail

: "${TOPSONGS_BIN:?}" "${SCRATCH:?}" "${ROOT:?}"
: "${TOPSONGS_KAFKA_BROKERS:=127.0.0.1:29092}"
export TOPSONGS_KAFKA_BROKERS
# ingest's metrics on any free port: its default, 127.0.0.1:8081, would be
# taken by the ingest of a script running beside this one (an ingest that
# cannot listen runs without metrics, with a warning).
: "${TOPSONGS_INGEST_METRICS_LISTEN:=127.0.0.1:0}"
export TOPSONGS_INGEST_METRICS_LISTEN

pids_to_stop=()
own_kafka="" # the state folder of use_own_broker's broker, if any
cleanup() {
	local p
	[ -z "$own_kafka" ] || "$ROOT/scripts/kafka.sh" stop "$own_kafka" >/dev/null 2>&1 || true
	for p in "${pids_to_stop[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${pids_to_stop[@]}"; do
		for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null || true
	done
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# free_ports N: the first of N consecutive ports free now, chosen at random
# below the kernel's ephemeral range (ip_local_port_range), so that no
# outgoing connection is handed one of them before our server binds it (a
# broker, which takes seconds to start, once lost its port so); never the
# shared services' ports and the ones beside them, which tests stop and
# start again.
free_ports() {
	python3 - "$1" "${TS_PG_PORT:-0}" "${TS_KAFKA_PORT:-0}" "${TS_MINIO_PORT:-0}" <<'PY'
import random, socket, sys
n, lo, hi = int(sys.argv[1]), 10000, 32768
shared = {int(a) + d for a in sys.argv[2:] for d in (0, 1)}
try:
    hi = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
except (OSError, ValueError):
    pass
if hi - n <= lo + 1000:  # an unusual range: anywhere, as before
    lo, hi = 1024, 65535
while True:
    p, socks = random.randrange(lo, hi - n), []
    if shared & set(range(p, p + n)):
        continue
    try:
        for i in range(n):
            socks.append(socket.socket())
            socks[-1].bind(("127.0.0.1", p + i))
    except OSError:
        continue
    finally:
        for s in socks:
            s.close()
    print(p)
    break
PY
}
free_port() { free_ports 1; }

# use_own_broker: a Kafka broker of this script's own, for a script that
# stops and restarts it while the shared one serves the scripts running
# beside it. Exports TOPSONGS_KAFKA_BROKERS, TS_KAFKA_STATE and TS_KAFKA_PORT
# (its controller listens on TS_KAFKA_PORT + 1); cleanup stops it.
use_own_broker() {
	local port attempt
	own_kafka="$SCRATCH/kafka"
	# Another process may still take a port between the probe and the
	# broker's bind: then again, on other ports, twice at most.
	for attempt in 1 2 3; do
		port="$(free_ports 2)"
		rm -rf "$own_kafka"
		"$ROOT/scripts/kafka.sh" start "$own_kafka" "$port" 2>"$SCRATCH/kafka-start.log" && break
		[ "$attempt" = 3 ] &&
			fail "could not start a Kafka broker on 127.0.0.1:$port: $(tail -n 5 "$SCRATCH/kafka-start.log")"
		"$ROOT/scripts/kafka.sh" stop "$own_kafka" >/dev/null 2>&1 || true
	done
	export TS_KAFKA_STATE="$own_kafka" TS_KAFKA_PORT="$port" TOPSONGS_KAFKA_BROKERS="127.0.0.1:$port"
}

# start_api PORT [flags...]: starts the api in the background, waits for /healthz.
start_api() {
	local port="$1"
	shift
	"$TOPSONGS_BIN" api --api-listen "127.0.0.1:$port" "$@" >>"$SCRATCH/api.log" 2>&1 &
	API_PID=$!
	pids_to_stop+=("$API_PID")
	for _ in $(seq 1 100); do
		curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && return 0
		kill -0 "$API_PID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$SCRATCH/api.log" >&2
	fail "api did not start on port $port"
}

# wait_ready PORT: until /readyz says Kafka is reachable (up to 30 s).
wait_ready() {
	for _ in $(seq 1 300); do
		curl -fs "http://127.0.0.1:$1/readyz" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	fail "api on port $1 never became ready"
}

# consume TOPIC: prints "key<TAB>value" for every record, from the beginning.
consume() {
	kcat -C -b "$TOPSONGS_KAFKA_BROKERS" -t "$1" -o beginning -e -q -f '%k\t%s\n' 2>/dev/null
}

# consume_until TOPIC N: the topic's records (consume) into
# $SCRATCH/records.tsv, read again until there are at least N of them or
# 15 s have passed; the caller checks what it got.
consume_until() {
	for _ in $(seq 1 30); do
		consume "$1" >"$SCRATCH/records.tsv" || true
		[ "$(wc -l <"$SCRATCH/records.tsv")" -ge "$2" ] && return 0
		sleep 0.5
	done
}

# topic_rows TOPIC: rows ingest has committed for TOPIC so far, from its
# own bookkeeping (cheap to poll); 0 while PostgreSQL is away.
topic_rows() {
	psql -X -q -tA "$TOPSONGS_PG_URL" -c \
		"SELECT coalesce(sum(rows), 0) FROM ingest_files WHERE topic = '$1'" 2>/dev/null || echo 0
}

# unique topic name for this script
new_topic() {
	echo "test-$(basename "$0" .sh)-$$-$RANDOM"
}

# make_events N [seed]: N valid plays as NDJSON with event times in the last hour.
make_events() {
	python3 - "$1" "${2:-1}" <<'PY'
import json, random, sys, uuid, datetime
n, seed = int(sys.argv[1]), int(sys.argv[2])
rnd = random.Random(seed)
now = datetime.datetime.now(datetime.timezone.utc)
regions = ["NA", "SA", "EU", "AF", "AS", "OC"]
for i in range(n):
    ts = now - datetime.timedelta(seconds=rnd.randint(0, 3600), milliseconds=rnd.randint(0, 999))
    ev = {"event_id": str(uuid.UUID(int=rnd.getrandbits(128), version=4)),
          "user_id": "u%d" % rnd.randint(1, 50), "song_id": "s%d" % rnd.randint(1, 30),
          "region": rnd.choice(regions), "ts": ts.isoformat(timespec="milliseconds")}
    if rnd.random() < 0.5:
        ev.update(country="DE", city="Berlin \u00fcber", lat=52.52, lon=13.405,
                  device="ios", duration_ms=rnd.randint(0, 600000))
    print(json.dumps(ev, ensure_ascii=False))
PY
}

post() { # PATH CONTENT-TYPE DATA-FILE -> prints status code, body in $SCRATCH/body
	curl -s -o "$SCRATCH/body" -w '%{http_code}' -XPOST -H "Content-Type: $2" \
		--data-binary "@$3" "http://127.0.0.1:$API_PORT$1"
}

# use_minio: the MinIO of scripts/test.sh (TOPSONGS_S3_ENDPOINT), or one of
# this script's own on a free port; exports the TOPSONGS_S3_* and TS_MINIO_*
# variables either way.
use_minio() {
	if [ -z "${TOPSONGS_S3_ENDPOINT:-}" ]; then
		local port
		port="$(free_port)"
		"$ROOT/scripts/minio.sh" start "$SCRATCH/minio" "$port" 2>/dev/null ||
			fail "could not start MinIO on 127.0.0.1:$port"
		pids_to_stop+=("$(cat "$SCRATCH/minio/minio.pid")")
		export TS_MINIO_PORT="$port" TS_MINIO_STATE="$SCRATCH/minio"
		export TOPSONGS_S3_ENDPOINT="http://127.0.0.1:$port"
		export TOPSONGS_S3_ACCESS_KEY=topsongs-test TOPSONGS_S3_SECRET_KEY=topsongs-test-secret
	fi
	: "${TS_MINIO_PORT:?}" "${TOPSONGS_S3_ACCESS_KEY:?}" "${TOPSONGS_S3_SECRET_KEY:?}"
}

# load_chart_fixture: the fixture charts (fixtures/charts.sql) into the test
# PostgreSQL; run after an api started (it migrates the schema).
load_chart_fixture() {
	psql -qAtX -v ON_ERROR_STOP=1 "${TOPSONGS_PG_URL:?}" -f "$ROOT/tests/integration/fixtures/charts.sql" \
		>/dev/null || fail "could not load the chart fixture"
}

# get PATH [curl args...] -> prints the status; body in $SCRATCH/body, headers in $SCRATCH/headers
get() {
	local path="$1"
	shift
	rm -f "$SCRATCH/body" "$SCRATCH/headers"
	: >"$SCRATCH/body"
	curl -s -o "$SCRATCH/body" -D "$SCRATCH/headers" -w '%{http_code}' "$@" "http://127.0.0.1:$API_PORT$path"
}

# header NAME: the value of a response header of the last get
header() {
	grep -i "^$1:" "$SCRATCH/headers" | head -n 1 | cut -d' ' -f2- | tr -d '\r'
}
