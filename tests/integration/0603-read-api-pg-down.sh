#!/usr/bin/env bash
# PostgreSQL down: read endpoints answer 503 + Retry-After (JSON), at once,
# while POST /play keeps answering 202 and /healthz, /api/regions and the
# OpenAPI document keep working; when PostgreSQL is back, reads recover
# without restarting the api. Also an api started while PostgreSQL is down.
# Uses a PostgreSQL of its own, so stopping it disturbs nobody.
. "$(dirname "$0")/lib.sh"

pg_dir="$SCRATCH/pg"
pg_port="$(free_port)"
stop_pg() { "$ROOT/scripts/pg.sh" destroy "$pg_dir" >/dev/null 2>&1 || true; }
trap 'cleanup; stop_pg' EXIT
"$ROOT/scripts/pg.sh" start "$pg_dir" "$pg_port" >/dev/null 2>&1 || fail "could not start PostgreSQL"
export TOPSONGS_PG_URL="postgresql://topsongs@127.0.0.1:$pg_port/topsongs"

topic="$(new_topic)"
API_PORT="$(free_port)"
start_api "$API_PORT" --kafka-topic "$topic" --api-web-dir ""
wait_ready "$API_PORT"
load_chart_fixture
top='/api/top?region=EU&at=2026-11-20T13'
[ "$(get "$top")" = 200 ] || fail "top before the outage"
now="$(date -u +%Y-%m-%dT%H:%M:%S.000Z)"
play() { # N -> a valid play
	printf '{"event_id":"0b7e2f4c-1d2e-4f3a-8b9c-%012d","user_id":"u1","song_id":"s1","region":"EU","ts":"%s"}' "$1" "$now" \
		>"$SCRATCH/play.json"
	post /play application/json "$SCRATCH/play.json"
}
[ "$(play 1)" = 202 ] || fail "play before the outage"

"$ROOT/scripts/pg.sh" stop "$pg_dir" >/dev/null 2>&1 || fail "could not stop PostgreSQL"
# The final chart read above sits in the api's memory (60 s): it is still
# served; charts not read before are not.
[ "$(get "$top")" = 200 ] || fail "a cached final chart is not served during the outage"
reads_down() {
	local p code t0 t1
	for p in '/api/top?region=EU&at=2026-11-20T12' '/api/top?region=ALL&period=day&at=2026-11-20' \
		'/api/top.csv?region=EU' '/api/trend?song=fx-1' /api/pipeline '/api/top?region=SA'; do
		t0="$(date +%s%N)"
		code="$(get "$p")"
		t1="$(date +%s%N)"
		[ "$code" = 503 ] || fail "$p answered $code with PostgreSQL down"
		[ -n "$(header Retry-After)" ] || fail "$p: 503 without Retry-After"
		python3 -c 'import json,sys; b=json.load(open(sys.argv[1])); assert b["error"]' "$SCRATCH/body" ||
			fail "$p: 503 body is not a JSON error"
		# the product's promise is "no hang": a 2 s connect timeout, with slack
		[ $(((t1 - t0) / 1000000)) -lt 8000 ] || fail "$p took $(((t1 - t0) / 1000000)) ms"
	done
}
reads_down
for i in 2 3 4 5 6; do
	[ "$(play "$i")" = 202 ] || fail "POST /play with PostgreSQL down: $(cat "$SCRATCH/body")"
done
[ "$(get /healthz)" = 200 ] || fail "healthz"
[ "$(get /api/regions)" = 200 ] || fail "regions need no database"
[ "$(get /api/openapi.json)" = 200 ] || fail "openapi needs no database"

# an api started while PostgreSQL is down starts, and answers 503
API2_PORT="$(free_port)"
saved="$API_PORT"
API_PORT="$API2_PORT"
start_api "$API2_PORT" --kafka-topic "$topic" --api-web-dir ""
reads_down
API_PORT="$saved"

"$ROOT/scripts/pg.sh" start "$pg_dir" "$pg_port" >/dev/null 2>&1 || fail "could not restart PostgreSQL"
for port in "$API_PORT" "$API2_PORT"; do
	API_PORT="$port"
	ok=0
	for _ in $(seq 1 50); do
		[ "$(get "$top")" = 200 ] && { ok=1; break; }
		sleep 0.2
	done
	[ "$ok" = 1 ] || fail "api on $port did not recover: $(cat "$SCRATCH/body")"
	python3 -c 'import json,sys; assert len(json.load(open(sys.argv[1]))["entries"]) == 10' "$SCRATCH/body" ||
		fail "wrong chart after recovery"
done
consume "$topic" >"$SCRATCH/records.tsv" || true
[ "$(grep -c . "$SCRATCH/records.tsv")" = 6 ] || fail "expected 6 plays in Kafka, got $(grep -c . "$SCRATCH/records.tsv")"
echo "ok: PostgreSQL down -> 503 for reads only; reads recover"
