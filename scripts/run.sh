#!/usr/bin/env bash
# `make run`: the local pipeline as far as it exists today — PostgreSQL and
# Kafka on loopback (unless your own are configured), the api, ingest into
# the lake, the scheduler running the flows, and the simulator sending plays at a modest rate. Ctrl-C stops everything this
# script started, by PID. State lives in var/ and survives restarts.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bin="$root/build/topsongs"
state="$root/var"
rate="${RATE:-20}"
pids=()

say() { printf 'run: %s\n' "$*" >&2; }

stop_all() {
	trap - INT TERM EXIT
	say "stopping"
	# Newest first: the simulator before the api it sends to.
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
		kill -TERM "${pids[i]}" 2>/dev/null || true
		wait "${pids[i]}" 2>/dev/null || true
	done
	"$root/scripts/services.sh" stop "$state" >/dev/null 2>&1 || true
	[ "${minio_started:-0}" = 1 ] && "$root/scripts/minio.sh" stop "$state/minio" >/dev/null 2>&1
	say "stopped"
	exit 0
}

effective() { "$bin" config | sed -n "s/^$1 = //p"; }

scripts/setup.sh run
make -s -j2 all
mkdir -p "$state"
export TOPSONGS_LOG_FORMAT="${TOPSONGS_LOG_FORMAT:-text}"

# Your own services, when configured (in .env or TOPSONGS_*), are used as they are.
[ "$(effective kafka.brokers)" = 127.0.0.1:19092 ] || export SKIP_KAFKA=1
[ "$(effective pg.url)" = "postgresql://topsongs@127.0.0.1:15432/topsongs" ] || export SKIP_PG=1
trap stop_all INT TERM EXIT
scripts/services.sh start "$state"

# An s3:// lake with no endpoint configured gets a local MinIO on
# 127.0.0.1:19000 (credentials from MINIO_ROOT_USER/PASSWORD or the local
# pair in scripts/minio.sh), with its bucket created.
lake="$(effective lake.url)"
if [ "${lake#s3://}" != "$lake" ] && [ -z "$(effective s3.endpoint)" ]; then
	scripts/minio.sh install
	scripts/minio.sh start "$state/minio" 19000
	minio_started=1
	bucket="${lake#s3://}"
	bucket="${bucket%%/*}"
	scripts/minio.sh mb 19000 "$bucket" || true
	export TOPSONGS_S3_ENDPOINT=http://127.0.0.1:19000
	export TOPSONGS_S3_ACCESS_KEY="${MINIO_ROOT_USER:-topsongs-test}"
	export TOPSONGS_S3_SECRET_KEY="${MINIO_ROOT_PASSWORD:-topsongs-test-secret}"
fi

"$bin" api >>"$state/api.log" 2>&1 &
pids+=($!)
listen="$(effective api.listen)"
for _ in $(seq 1 100); do
	curl -fs "http://$listen/healthz" >/dev/null 2>&1 && break
	sleep 0.1
done
curl -fs "http://$listen/healthz" >/dev/null || { say "the api did not start; see $state/api.log"; exit 1; }

"$bin" ingest >>"$state/ingest.log" 2>&1 &
pids+=($!)

"$bin" scheduler >>"$state/scheduler.log" 2>&1 &
pids+=($!)

"$bin" simulate --rate "$rate" --target "http://$listen" >>"$state/simulate.log" 2>&1 &
pids+=($!)

cat >&2 <<MSG

  Top Songs is running.
    api          http://$listen   (POST /play, /plays; GET /healthz, /readyz, /metrics)
    kafka        $(effective kafka.brokers)  topic $(effective kafka.topic)
    postgresql   $(effective pg.url | sed 's#://[^@]*:[^@]*@#://<redacted>@#')
    ingest       plays -> $(effective lake.url)/raw/region=*/date=*/hour=*/ (Parquet)
                 metrics http://$(effective ingest.metrics-listen)/metrics
    scheduler    the flows on their schedules (topsongs flows list; history: topsongs flows runs)
    simulator    $rate plays/s into the api
    logs         $state/api.log, $state/ingest.log, $state/scheduler.log, $state/simulate.log
  The dashboard is not built yet (issue 6); watch the plays arrive with
    curl -s http://$listen/metrics | grep accepted
  Press Ctrl-C to stop everything.

MSG
"$bin" check || true
wait -n "${pids[@]}" || true
say "a process exited; see the logs in $state"
