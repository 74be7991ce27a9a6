#!/usr/bin/env bash
# Starts or stops the local PostgreSQL and Kafka together.
#
#   scripts/services.sh start|stop|status [STATE_DIR]
#
# STATE_DIR defaults to var/ (what `make run` uses); tests use var/test with
# other ports so they never touch the data of `make run`. Ports come from
# TS_PG_PORT (default 15432) and TS_KAFKA_PORT (default 19092; the KRaft
# controller takes the next port). SKIP_PG=1 / SKIP_KAFKA=1 leave one out,
# for when the user's own service is configured instead.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
state="${2:-$root/var}"
pg_port="${TS_PG_PORT:-15432}"
kafka_port="${TS_KAFKA_PORT:-19092}"

case "${1:-}" in
start)
	[ "${SKIP_PG:-0}" = 1 ] || "$here/pg.sh" start "$state/pg" "$pg_port"
	[ "${SKIP_KAFKA:-0}" = 1 ] || "$here/kafka.sh" start "$state/kafka" "$kafka_port"
	;;
stop)
	"$here/kafka.sh" stop "$state/kafka"
	"$here/pg.sh" stop "$state/pg"
	;;
status)
	rc=0
	"$here/pg.sh" status "$state/pg" || rc=1
	"$here/kafka.sh" status "$state/kafka" || rc=1
	exit $rc
	;;
*)
	echo "usage: services.sh start|stop|status [STATE_DIR]" >&2
	exit 2
	;;
esac
