#!/usr/bin/env bash
# A private PostgreSQL cluster on loopback, from Debian's packages.
#
#   scripts/pg.sh start STATE_DIR PORT   initdb once, start, create role and
#                                        database "topsongs", wait until ready
#   scripts/pg.sh stop STATE_DIR
#   scripts/pg.sh destroy STATE_DIR      stop and delete the data
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

# The data folder: STATE_DIR/data, or — when the checkout lies where the
# postgres user cannot reach (under /root, say) — a folder in /var/tmp named
# after the checkout, recorded in STATE_DIR/data-location.
data_dir() {
	local dir="$1" alt
	if [ -f "$dir/data-location" ]; then
		cat "$dir/data-location"
	elif [ "$(id -u)" -ne 0 ] || runuser -u postgres -- test -w "$dir" 2>/dev/null; then
		echo "$dir/data"
	else
		alt="/var/tmp/topsongs-pg-$(printf '%s' "$dir" | md5sum | cut -c1-12)"
		mkdir -p "$alt"
		chown postgres:postgres "$alt"
		chmod 700 "$alt"
		echo "$alt/data" | tee "$dir/data-location"
		log "postgres cannot reach $dir; its data lives in $alt instead" >&2
	fi
}

start() {
	local dir="$1" port="$2" data logf
	mkdir -p "$dir"
	dir="$(cd "$dir" && pwd)"
	[ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir"
	data="$(data_dir "$dir")"
	if [ -f "$data/postmaster.pid" ] && as_owner "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
		log "already running on 127.0.0.1:$port"
		return 0
	fi
	if [ ! -f "$data/PG_VERSION" ]; then
		as_owner "$bindir/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
			>"$dir/initdb.log" 2>&1 || die "initdb failed; see $dir/initdb.log"
	fi
	logf="$(dirname "$data")/postgres.log"
	touch "$logf"
	[ "$(id -u)" -eq 0 ] && chown postgres:postgres "$logf"
	as_owner "$bindir/pg_ctl" -D "$data" -l "$logf" -w -t 60 -o \
		"-p $port -k $(dirname "$data") -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=200" \
		start >/dev/null ||
		{
			tail -n 20 "$logf" >&2 || true
			die "PostgreSQL did not start on 127.0.0.1:$port; its log is $logf"
		}
	psql_admin "$port" -tAc "SELECT 1 FROM pg_roles WHERE rolname='topsongs'" | grep -q 1 ||
		psql_admin "$port" -qc "CREATE ROLE topsongs LOGIN CREATEDB"
	psql_admin "$port" -tAc "SELECT 1 FROM pg_database WHERE datname='topsongs'" | grep -q 1 ||
		psql_admin "$port" -qc "CREATE DATABASE topsongs OWNER topsongs"
	log "ready on 127.0.0.1:$port (log $logf)"
}

psql_admin() {
	local port="$1"
	shift
	psql -X -h 127.0.0.1 -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 "$@"
}

stop() {
	local dir="$1" data
	[ -d "$dir" ] || return 0
	data="$(cat "$dir/data-location" 2>/dev/null || echo "$dir/data")"
	[ -f "$data/postmaster.pid" ] || return 0
	as_owner "$bindir/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
}

status() {
	local dir="$1" data
	data="$(cat "$dir/data-location" 2>/dev/null || echo "$dir/data")"
	if [ -f "$data/postmaster.pid" ] && as_owner "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
		echo "postgres: running"
	else
		echo "postgres: stopped"
		return 1
	fi
}

# Stops the cluster and removes its data, wherever it lives.
destroy() {
	local dir="$1" data
	stop "$dir"
	data="$(cat "$dir/data-location" 2>/dev/null || true)"
	[ -n "$data" ] && rm -rf "$(dirname "$data")"
	rm -rf "$dir"
}

case "${1:-}" in
destroy) destroy "${2:?state dir}" ;;
start) start "${2:?state dir}" "${3:?port}" ;;
stop) stop "${2:?state dir}" ;;
status) status "${2:?state dir}" ;;
*) die "usage: pg.sh start DIR PORT|stop DIR|destroy DIR|status DIR" ;;
esac
