#!/usr/bin/env bash
# The read API against the real PostgreSQL with the fixture charts: every
# endpoint's answer, every parameter rule with hostile values (SQL
# metacharacters, huge and negative numbers, bad dates, overlong and
# badly encoded strings), ETag/304, Cache-Control, the CSV export.
. "$(dirname "$0")/lib.sh"

API_PORT="$(free_port)"
start_api "$API_PORT" --api-web-dir ""
load_chart_fixture

# jq-like checks with Python: json_check 'python expression over b'
json_check() {
	python3 - "$SCRATCH/body" "$1" <<'PY' || fail "check failed: $1 on $(head -c 600 "$SCRATCH/body")"
import json, sys
b = json.load(open(sys.argv[1]))
assert eval(sys.argv[2]), sys.argv[2]
PY
}

# expect400 PATH PARAM: a 400 naming PARAM (or "-" for a query-string error)
expect400() {
	local code
	code="$(get "$1")"
	[ "$code" = 400 ] || fail "$1 answered $code: $(cat "$SCRATCH/body")"
	if [ "$2" = - ]; then
		json_check 'b["error"] == "bad query string" and b["detail"]'
	else
		json_check "b['error'] == 'bad parameter' and b['param'] == '$2' and b['detail']"
	fi
	[ "$(header Content-Type)" = application/json ] || fail "$1: 400 is not JSON"
}

# --- /api/regions
[ "$(get /api/regions)" = 200 ] || fail "regions"
json_check '[r["code"] for r in b["regions"]] == ["ALL","NA","SA","EU","AF","AS","OC"]'
json_check 'b["regions"][3]["name"] == "Europe"'
expect400 "/api/regions?x=1" x

# --- /api/top: the fixture's EU 13:00 chart
[ "$(get '/api/top?region=EU&period=hour&at=2026-11-20T13')" = 200 ] || fail "top EU"
json_check 'len(b["entries"]) == 10 and [e["rank"] for e in b["entries"]] == list(range(1, 11))'
json_check 'b["entries"][0]["song_id"] == "fx-11" and b["entries"][0]["entry"] == "NEW" and b["entries"][0]["previous_rank"] is None'
json_check 'b["entries"][1] == {"rank":2,"song_id":"fx-1","title":"Song 1","artist":"Artist 1","genre":"rock","plays":1980,"previous_rank":1,"movement":-1,"peak_rank":1,"periods_on_chart":2,"entry":None}'
json_check 'b["start"] == "2026-11-20T13:00:00Z" and b["end"] == "2026-11-20T14:00:00Z" and b["final"] is True and b["live"] is False'
json_check 'b["entries"][7]["title"] == "Comma, \"Quote\""'
[ "$(header Cache-Control)" = "public, max-age=300" ] || fail "final chart Cache-Control: $(header Cache-Control)"
etag="$(header ETag)"
[ -n "$etag" ] || fail "no ETag"
# the same chart, asked in other spellings of the same hour
for at in 2026-11-20T13:45:10Z 2026-11-20T14:59:59%2B01:00 2026-11-20t13 2026-11-20T13:00:00.999999Z; do
	[ "$(get "/api/top?region=EU&at=$at")" = 200 ] || fail "at=$at"
	json_check 'b["start"] == "2026-11-20T13:00:00Z" and len(b["entries"]) == 10'
	[ "$(header ETag)" = "$etag" ] || fail "at=$at: another ETag"
done
# ETag / 304
code="$(get '/api/top?region=EU&period=hour&at=2026-11-20T13' -H "If-None-Match: $etag")"
[ "$code" = 304 ] || fail "If-None-Match answered $code"
[ ! -s "$SCRATCH/body" ] || fail "304 with a body"
[ "$(get '/api/top?region=EU&period=hour&at=2026-11-20T13' -H 'If-None-Match: "0000000000000000"')" = 200 ] ||
	fail "a stale ETag did not get 200"
# other charts
[ "$(get '/api/top?region=ALL&at=2026-11-20T13')" = 200 ] || fail "top ALL"
json_check 'b["entries"][0]["song_id"] == "fx-12" and b["entries"][0]["entry"] == "RE-ENTRY"'
[ "$(get '/api/top?region=EU&period=day&at=2026-11-20')" = 200 ] || fail "top day"
json_check 'b["period"] == "day" and b["start"] == "2026-11-20T00:00:00Z" and b["end"] == "2026-11-21T00:00:00Z" and b["entries"][0]["song_id"] == "fx-10" and b["final"] is False'
[ "$(header Cache-Control)" = no-cache ] || fail "provisional chart Cache-Control: $(header Cache-Control)"
[ "$(get '/api/top?region=EU&period=day&at=2026-11-20T13')" = 200 ] || fail "day from an hour"
json_check 'b["start"] == "2026-11-20T00:00:00Z"'
# the current hour (default region ALL): live
[ "$(get '/api/top')" = 200 ] || fail "top now"
json_check 'b["region"] == "ALL" and b["period"] == "hour" and b["live"] is True and b["final"] is False and len(b["entries"]) == 10'
[ "$(get '/api/top?at=now&period=hour&region=ALL')" = 200 ] || fail "at=now"
# an empty chart is 200 with no entries
[ "$(get '/api/top?region=NA&at=2026-11-20T13')" = 200 ] || fail "empty chart"
json_check 'b["entries"] == [] and b["final"] is False and b["updated_at"] is None'

# parameter rules, hostile values
expect400 "/api/top?region=XX" region
expect400 "/api/top?region=eu" region
expect400 "/api/top?region=EU%27%3B%20DROP%20TABLE%20songs%3B--" region
expect400 "/api/top?region=EU'%20OR%20'1'='1" region
expect400 "/api/top?region=$(python3 -c 'print("A"*200)')" region
expect400 "/api/top?region=" region
expect400 "/api/top?period=week" period
expect400 "/api/top?period=HOUR" period
expect400 "/api/top?period=" period
for at in 2026-02-30 2026-13-01 2026-11-20T24 2026-11-20T13:00:00 -1 0 99999999999999999999 \
	1999-12-31 2100-01-01 2026-11-20T13:61:00Z yesterday "2026-11-20%2013" "%27%3B--" \
	"$(python3 -c 'print("9"*250)')"; do
	expect400 "/api/top?at=$at" at
done
expect400 "/api/top?foo=1" foo
expect400 "/api/top?region=EU&region=NA" region
expect400 "/api/top?%00=1" -
expect400 "/api/top?region=E%00U" -
expect400 "/api/top?region=%zz" -
expect400 "/api/top?region=%E" -
expect400 "/api/top?region=%ff%fe" -
expect400 "/api/top?=EU" -
expect400 "/api/top?$(python3 -c 'print("&".join("a%d=1" % i for i in range(17)))')" -
expect400 "/api/top?region=$(python3 -c 'print("A"*3000)')" -
expect400 "/api/top?$(python3 -c 'print("k"*40)')=1" -
# the database is untouched by all that
[ "$(psql -qAtX "$TOPSONGS_PG_URL" -c "SELECT count(*) FROM songs WHERE song_id LIKE 'fx-%'")" = 12 ] ||
	fail "songs changed"
# blanks and repeated separators are fine
[ "$(get '/api/top?&region=EU&&at=2026-11-20T13&')" = 200 ] || fail "empty pieces"
[ "$(get '/api/top?region=E%55&at=2026-11-20T13')" = 200 ] || fail "percent-encoded region"

# --- /api/top.csv
[ "$(get '/api/top.csv?region=EU&at=2026-11-20T13')" = 200 ] || fail "csv"
case "$(header Content-Type)" in text/csv*) ;; *) fail "csv Content-Type $(header Content-Type)" ;; esac
[ "$(header Content-Disposition)" = 'attachment; filename="top-EU-hour-2026-11-20T13.csv"' ] ||
	fail "csv Content-Disposition: $(header Content-Disposition)"
python3 - "$SCRATCH/body" <<'PY' || fail "csv content: $(cat "$SCRATCH/body")"
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
assert rows[0] == ["rank","song_id","title","artist","genre","plays","previous_rank","movement","peak_rank","periods_on_chart","entry"], rows[0]
assert len(rows) == 11, len(rows)
assert rows[1] == ["1","fx-11","Song 11","Artist 1","jazz","1990","","","1","1","NEW"], rows[1]
assert rows[8][2] == 'Comma, "Quote"', rows[8]
assert rows[8][3] == "'=HYPERLINK(\"x\")", rows[8]  # a formula, defused
assert open(sys.argv[1], "rb").read().count(b"\r\n") == 11
PY
[ "$(get '/api/top.csv?region=EU&period=day&at=2026-11-20')" = 200 ] || fail "csv day"
[ "$(header Content-Disposition)" = 'attachment; filename="top-EU-day-2026-11-20.csv"' ] || fail "csv day name"
expect400 "/api/top.csv?region=XX" region

# --- /api/trend
[ "$(get '/api/trend?region=EU&song=fx-1&song=fx-7&from=2026-11-20&to=2026-11-20T04')" = 200 ] || fail "trend"
json_check 'b["hours"] == ["2026-11-20T0%d:00:00Z" % h for h in range(4)]'
json_check '[s["song_id"] for s in b["series"]] == ["fx-1","fx-7"] and b["series"][0]["plays"] == [10,11,12,13] and b["series"][1]["plays"] == [70,71,72,73]'
[ "$(get '/api/trend?region=EU&song=fx-3&song=nope&from=2026-11-19T22&to=2026-11-20T02')" = 200 ] || fail "trend gaps"
json_check 'b["series"][0]["plays"] == [0,0,30,31] and b["series"][1]["plays"] == [0,0,0,0] and b["series"][1]["title"] is None'
[ "$(get '/api/trend?region=EU&song=fx-1&from=2026-11-20&to=2026-11-21')" = 200 ] || fail "trend day"
json_check 'len(b["hours"]) == 24 and b["series"][0]["plays"][23] == 33'
[ "$(header Cache-Control)" = "public, max-age=300" ] || fail "past trend Cache-Control"
[ "$(get "/api/trend?song=fx-1&song=%27%29%3B%20DROP%20TABLE%20plays_hourly%3B--")" = 200 ] ||
	fail "trend with SQL in a song id"
expect400 "/api/trend" song
expect400 "/api/trend?song=" song
expect400 "/api/trend?song=$(python3 -c 'print("s"*65)')" song
expect400 "/api/trend?$(python3 -c 'print("&".join("song=s%d" % i for i in range(11)))')" song
expect400 "/api/trend?song=a&region=XX" region
expect400 "/api/trend?song=a&from=2026-11-21&to=2026-11-20" from
expect400 "/api/trend?song=a&from=2026-01-01&to=2026-03-01" to
expect400 "/api/trend?song=a&from=-5" from
expect400 "/api/trend?song=a&to=1e9" to
expect400 "/api/trend?song=a&from=2026-11-20&from=2026-11-19" from
[ "$(psql -qAtX "$TOPSONGS_PG_URL" -c "SELECT count(*) FROM plays_hourly WHERE song_id LIKE 'fx-%'")" = 288 ] ||
	fail "plays_hourly changed"

# --- /api/pipeline
[ "$(get '/api/pipeline?runs=2')" = 200 ] || fail "pipeline"
json_check 'len(b["flow_runs"]) == 2 and b["flow_runs"][0]["state"] == "running" and b["flow_runs"][0]["attempt"] == 2'
json_check 'b["flow_runs"][1]["error"] == "lake: connection refused"'
json_check 'b["kafka"]["ok"] is True and len(b["kafka"]["partitions"]) >= 1 and b["kafka"]["total_lag"] >= 0'
json_check '{"region":"EU","date":"2026-11-20","hour":13} .items() <= b["lake"]["hours"][0].items() or any(h["hour"] == 13 for h in b["lake"]["hours"])'
json_check 'b["freshness"]["lake_age_s"] is not None and b["freshness"]["lake_age_s"] >= 0'
[ "$(header Cache-Control)" = no-cache ] || fail "pipeline Cache-Control"
# lag: plays produced and not yet ingested (no ingest runs here)
topic="$(new_topic)"
kcat -P -b "$TOPSONGS_KAFKA_BROKERS" -t "$topic" -p 0 <<<"$(printf 'a\nb\nc')" 2>/dev/null ||
	fail "could not produce to $topic"
API2_PORT="$(free_port)"
"$TOPSONGS_BIN" api --api-listen "127.0.0.1:$API2_PORT" --kafka-topic "$topic" --api-web-dir "" \
	>>"$SCRATCH/api2.log" 2>&1 &
pids_to_stop+=("$!")
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$API2_PORT/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
psql -qAtX "$TOPSONGS_PG_URL" -c "INSERT INTO ingest_offsets (topic, kafka_partition, next_offset) VALUES ('$topic', 0, 1)"
saved="$API_PORT"
API_PORT="$API2_PORT"
[ "$(get /api/pipeline)" = 200 ] || fail "pipeline 2"
json_check 'b["kafka"]["partitions"][0]["high_watermark"] == 3 and b["kafka"]["partitions"][0]["next_offset"] == 1 and b["kafka"]["partitions"][0]["lag"] == 2'
API_PORT="$saved"
for v in 0 101 -1 abc 1.5 99999999999999999999 "%2B5" "+5"; do
	expect400 "/api/pipeline?runs=$v" runs
done

# --- unknown /api paths and methods
[ "$(get /api/nope)" = 404 ] || fail "/api/nope"
[ "$(get /api/top -XPOST)" = 405 ] || fail "POST /api/top"
[ "$(header Allow)" = "GET, HEAD" ] || fail "Allow: $(header Allow)"
[ "$(curl -s -o /dev/null -w '%{http_code}' -I "http://127.0.0.1:$API_PORT/api/top?region=EU")" = 200 ] ||
	fail "HEAD /api/top"
curl -s "http://127.0.0.1:$API_PORT/metrics" | grep -q 'topsongs_api_requests_total{route="api",status="400"}' ||
	fail "read requests not in /metrics"
curl -fs "http://127.0.0.1:$API_PORT/healthz" >/dev/null || fail "api unhealthy"
echo "ok: read API answers, validates and caches"
