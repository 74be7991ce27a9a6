#!/usr/bin/env bash
# `make run`: the whole pipeline on this machine — installs what is missing,
# starts PostgreSQL and Kafka on loopback (unless your own are configured;
# MinIO too for an s3:// lake), then `topsongs up`: api, ingest, scheduler
# and the simulator, supervised. Ctrl-C stops everything this script
# started, by PID. State lives in var/ (logs in var/log/) and survives
# restarts. RATE=N sets the simulator's plays/s; NO_SIMULATE=1 turns it off.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bin="$root/build/topsongs"
state="$root/var"
rate="${RATE:-20}"

say() { printf 'run: %s\n' "$*" >&2; }

stop_all() {
	trap - INT TERM EXIT
	say "stopping"
	"$root/scripts/services.sh" stop "$state" >/dev/null 2>&1 || true
	[ "${minio_started:-0}" = 1 ] && "$root/scripts/minio.sh" stop "$state/minio" >/dev/null 2>&1
	say "stopped"
	exit 0
}

effective() { "$bin" config | sed -n "s/^$1 = //p"; }

scripts/setup.sh run
make -s -j2 all
scripts/web.sh build # the dashboard, when web/ changed since the last build
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

# topsongs up runs and supervises api, ingest, scheduler and the simulator
# (which back-fills the last 24 hours once, then plays live); Ctrl-C reaches
# it, it stops its children, and the trap above stops the services.
"$bin" up --state "$state" --rate "$rate" ${NO_SIMULATE:+--no-simulate} || say "up exited with status $?"
