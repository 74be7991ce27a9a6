#!/usr/bin/env bash
# A private MinIO stopped under the store: a get fails after its bounded
# retries with a clear error, exit 3; a get that starts while MinIO is down
# and MinIO comes back within the retries succeeds; what was written before
# the outage is still there after it.
. "$(dirname "$0")/lib.sh"
cd "$SCRATCH"
port="$(free_port)"
dir="$SCRATCH/minio"
export MINIO_ROOT_USER=topsongs-test MINIO_ROOT_PASSWORD=topsongs-test-secret
export TOPSONGS_ENV_FILE=/dev/null TOPSONGS_S3_ENDPOINT="http://127.0.0.1:$port"
export TOPSONGS_S3_ACCESS_KEY="$MINIO_ROOT_USER" TOPSONGS_S3_SECRET_KEY="$MINIO_ROOT_PASSWORD"
export TOPSONGS_LAKE_URL="s3://outage/lake"
start_minio() {
	"$ROOT/scripts/minio.sh" start "$dir" "$port" 2>>minio.out || fail "MinIO did not start: $(cat minio.out)"
}
# Stopped through its pid file (not pids_to_stop: it is restarted under a new PID).
trap '"$ROOT/scripts/minio.sh" stop "$dir"; cleanup' EXIT
start_minio
"$ROOT/scripts/minio.sh" mb "$port" outage
echo "before the outage" | "$TOPSONGS_BIN" store put kept || fail "put"
"$ROOT/scripts/minio.sh" stop "$dir"

# 1. Down for good: bounded retries, then exit 3 and a reason naming the endpoint.
start=$(date +%s%N)
rc=0
"$TOPSONGS_BIN" store get kept --s3-max-retries 3 >down.out 2>down.err || rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
[ "$rc" = 3 ] || fail "MinIO stopped: exit $rc: $(cat down.err)"
grep -q "s3: cannot connect to http://127.0.0.1:$port (4 attempts in" down.err || fail "$(cat down.err)"
[ "$ms" -lt 3000 ] || fail "MinIO stopped: gave up after $ms ms; 3 retries should take under 1 s"

# 2. Back within the retries: the same get succeeds, with the data from before.
rc=0
"$TOPSONGS_BIN" store get kept --s3-max-retries 10 --log-level debug >back.out 2>back.err &
getpid=$!
pids_to_stop+=("$getpid")
sleep 1
start_minio
wait "$getpid" || rc=$?
[ "$rc" = 0 ] || fail "get across the restart: exit $rc: $(cat back.err)"
[ "$(cat back.out)" = "before the outage" ] || fail "after the outage: $(cat back.out)"
grep -q retrying back.err || fail "the get should have retried while MinIO was down"
echo "ok: the store rides out a MinIO restart and gives up cleanly when it stays down"
