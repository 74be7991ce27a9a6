#!/usr/bin/env bash
# A private PostgreSQL cluster on loopback, from Debian's packages.
#
#   scripts/pg.sh start STATE_DIR PORT   initdb once, start, create role and
#                                        database "topsongs", wait until ready
#   scripts/pg.sh stop STATE_DIR
#   scripts/pg.sh status STATE_DIR
#
# initdb refuses to run as root, so as root the cluster belongs to the
# `postgres` user. Authentication is `trust` for loopback connections only:
# this cluster is for local development and tests, never exposed.
set -euo pipefail

log() { printf 'postgres: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
[ -n "$bindir" ] || die "PostgreSQL is not installed (run scripts/setup.sh run)"

as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

start() {
	local dir="$1" port="$2" data
	mkdir -p "$dir"
	dir="$(cd "$dir" && pwd)"
	data="$dir/data"
	if [ "$(id -u)" -eq 0 ]; then
		chown postgres:postgres "$dir"
		runuser -u postgres -- test -w "$dir" ||
			die "user postgres cannot write $dir (a parent folder is not traversable)"
	fi
	if [ -f "$data/postmaster.pid" ] && as_owner "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
		log "already running on 127.0.0.1:$port"
		return 0
	fi
	if [ ! -f "$data/PG_VERSION" ]; then
		as_owner "$bindir/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
			>"$dir/initdb.log" 2>&1 || die "initdb failed; see $dir/initdb.log"
	fi
	as_owner "$bindir/pg_ctl" -D "$data" -l "$dir/postgres.log" -w -t 60 -o \
		"-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=200" \
		start >/dev/null ||
		{
			tail -n 20 "$dir/postgres.log" >&2 || true
			die "PostgreSQL did not start on 127.0.0.1:$port; its log is $dir/postgres.log"
		}
	psql_admin "$port" -tAc "SELECT 1 FROM pg_roles WHERE rolname='topsongs'" | grep -q 1 ||
		psql_admin "$port" -qc "CREATE ROLE topsongs LOGIN"
	psql_admin "$port" -tAc "SELECT 1 FROM pg_database WHERE datname='topsongs'" | grep -q 1 ||
		psql_admin "$port" -qc "CREATE DATABASE topsongs OWNER topsongs"
	log "ready on 127.0.0.1:$port (log $dir/postgres.log)"
}

psql_admin() {
	local port="$1"
	shift
	psql -X -h 127.0.0.1 -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 "$@"
}

stop() {
	local dir="$1"
	[ -f "$dir/data/postmaster.pid" ] || return 0
	as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
}

status() {
	local dir="$1"
	if [ -f "$dir/data/postmaster.pid" ] && as_owner "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
		echo "postgres: running"
	else
		echo "postgres: stopped"
		return 1
	fi
}

case "${1:-}" in
start) start "${2:?state dir}" "${3:?port}" ;;
stop) stop "${2:?state dir}" ;;
status) status "${2:?state dir}" ;;
*) die "usage: pg.sh start DIR PORT|stop DIR|status DIR" ;;
esac
