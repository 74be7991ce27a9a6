#!/usr/bin/env bash
# The local S3-compatible server for the s3:// lake and its tests: MinIO,
# built once from its Go module with `go install` (it takes minutes) and
# cached in var/cache/minio/.
#
#   scripts/minio.sh install               build the binary (once, cached)
#   scripts/minio.sh start STATE_DIR PORT  start on 127.0.0.1:PORT, wait until live
#   scripts/minio.sh stop STATE_DIR        stop the server started there (by PID)
#   scripts/minio.sh status STATE_DIR
#   scripts/minio.sh mb PORT BUCKET        create a bucket (SigV4 PUT with curl)
#
# The console listens on PORT+1. Credentials: MINIO_ROOT_USER and
# MINIO_ROOT_PASSWORD when set, else the test pair below (loopback only).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
bindir="$root/var/cache/minio"
bin="$bindir/minio"
: "${MINIO_ROOT_USER:=topsongs-test}"
: "${MINIO_ROOT_PASSWORD:=topsongs-test-secret}"
export MINIO_ROOT_USER MINIO_ROOT_PASSWORD

log() { printf 'minio: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

install() {
	[ -x "$bin" ] && return 0
	command -v go >/dev/null || die "go is not installed (MinIO is built with go install; it needs Go >= 1.24)"
	mkdir -p "$bindir"
	log "building MinIO with go install into $bindir (takes a few minutes, once)"
	GOBIN="$bindir" GOFLAGS=-buildvcs=false go install github.com/minio/minio@latest \
		>"$root/var/cache/minio-build.log" 2>&1 ||
		die "go install github.com/minio/minio failed; see $root/var/cache/minio-build.log"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

live() { curl -fs -o /dev/null "http://127.0.0.1:$1/minio/health/live"; }

start() {
	local dir="$1" port="$2" pid
	install
	mkdir -p "$dir/data"
	dir="$(cd "$dir" && pwd)"
	if [ -f "$dir/minio.pid" ] && kill -0 "$(cat "$dir/minio.pid")" 2>/dev/null; then
		log "already running (pid $(cat "$dir/minio.pid")) on 127.0.0.1:$port"
		return 0
	fi
	port_open "$port" && die "port 127.0.0.1:$port is already in use by another process"
	port_open $((port + 1)) && die "console port 127.0.0.1:$((port + 1)) is already in use"
	MINIO_BROWSER=off MINIO_UPDATE=off nohup "$bin" server "$dir/data" --quiet \
		--address "127.0.0.1:$port" --console-address "127.0.0.1:$((port + 1))" \
		>"$dir/minio.log" 2>&1 </dev/null &
	pid=$!
	echo "$pid" >"$dir/minio.pid"
	for _ in $(seq 1 240); do
		if live "$port"; then
			log "ready on 127.0.0.1:$port (pid $pid, log $dir/minio.log)"
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.25
	done
	log "MinIO did not start on 127.0.0.1:$port; its log is $dir/minio.log:"
	tail -n 20 "$dir/minio.log" >&2 2>/dev/null || true
	kill "$pid" 2>/dev/null || true
	rm -f "$dir/minio.pid"
	exit 1
}

stop() {
	local dir="$1" pid
	[ -f "$dir/minio.pid" ] || return 0
	pid="$(cat "$dir/minio.pid")"
	if kill -0 "$pid" 2>/dev/null; then
		kill "$pid"
		for _ in $(seq 1 80); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.25
		done
		kill -9 "$pid" 2>/dev/null || true
	fi
	rm -f "$dir/minio.pid"
}

status() {
	local dir="$1"
	if [ -f "$dir/minio.pid" ] && kill -0 "$(cat "$dir/minio.pid")" 2>/dev/null; then
		echo "minio: running (pid $(cat "$dir/minio.pid"))"
	else
		echo "minio: stopped"
		return 1
	fi
}

# Creates a bucket with a SigV4-signed PUT; an existing bucket of ours is fine.
mb() {
	local port="$1" bucket="$2" code
	code="$(curl -s -o /dev/null -w '%{http_code}' -X PUT \
		--aws-sigv4 "aws:amz:us-east-1:s3" --user "$MINIO_ROOT_USER:$MINIO_ROOT_PASSWORD" \
		-H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" \
		"http://127.0.0.1:$port/$bucket")"
	case "$code" in
	200 | 409) return 0 ;;
	*) die "creating bucket $bucket on 127.0.0.1:$port failed: HTTP $code" ;;
	esac
}

cmd="${1:-}"
case "$cmd" in
install) install ;;
start) start "${2:?state dir}" "${3:?port}" ;;
stop) stop "${2:?state dir}" ;;
status) status "${2:?state dir}" ;;
mb) mb "${2:?port}" "${3:?bucket}" ;;
*) die "usage: minio.sh install|start DIR PORT|stop DIR|status DIR|mb PORT BUCKET" ;;
esac
