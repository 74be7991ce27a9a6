#!/usr/bin/env bash
# Load shedding (issue 8, item 3) with a deliberately small api.max-inflight:
# while two plays are held in flight (a 1 s producer linger keeps them waiting
# for Kafka), further POST /play and POST /plays get 503 with Retry-After at
# once and never reach Kafka; meanwhile /healthz, the read API and the page
# still answer; afterwards the held plays are 202 and new ones are accepted
# again. No timing assertions: the script waits on /metrics, never on a clock.
. "$(dirname "$0")/lib.sh"

topic="$(new_topic)"
API_PORT="$(free_port)"
mkdir -p "$SCRATCH/web"
echo '<!doctype html><title>Top Songs</title>' >"$SCRATCH/web/index.html"
start_api "$API_PORT" --kafka-topic "$topic" --api-max-inflight 2 --kafka-linger-ms 1000 \
	--api-web-dir "$SCRATCH/web"
wait_ready "$API_PORT"
load_chart_fixture
url="http://127.0.0.1:$API_PORT"

make_events 8 14 >"$SCRATCH/all.ndjson"
line() { sed -n "$1p" "$SCRATCH/all.ndjson" >"$SCRATCH/ev$1.json"; echo "$SCRATCH/ev$1.json"; }
id_of() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["event_id"])' "$1"; }
metric() { curl -fs "$url/metrics" | awk -v m="$1" '$1 == m {print $2}'; }

# The first play (under a linger of 1 s) confirms the broker answers and the
# topic exists, so the two held below wait only for the linger.
[ "$(post /play application/json "$(line 1)")" = 202 ] || fail "warm-up play: $(cat "$SCRATCH/body")"

# Two plays held in flight, in the background.
held_pids=()
for i in 2 3; do
	curl -s -o "$SCRATCH/held$i.body" -w '%{http_code}' -XPOST -H 'Content-Type: application/json' \
		--data-binary "@$(line $i)" "$url/play" >"$SCRATCH/held$i.code" &
	pids_to_stop+=("$!")
	held_pids+=("$!")
done
# Until both count as in flight (bounded: 30 s of 0.05 s polls).
for _ in $(seq 1 600); do
	[ "$(metric topsongs_api_inflight_requests)" = 2 ] && break
	sleep 0.05
done
[ "$(metric topsongs_api_inflight_requests)" = 2 ] ||
	fail "the two held plays never counted as in flight (plays answered before the linger?)"

# At the limit: shed at once, with Retry-After, for a single play and a batch.
code="$(curl -s -o "$SCRATCH/body" -D "$SCRATCH/headers" -w '%{http_code}' -XPOST \
	-H 'Content-Type: application/json' --data-binary "@$(line 4)" "$url/play")"
[ "$code" = 503 ] || [ "$code" = 429 ] || fail "POST /play at the in-flight limit answered $code"
grep -qi '^retry-after: [0-9]' "$SCRATCH/headers" || fail "no Retry-After on the shed play"
grep -q '"overloaded"' "$SCRATCH/body" || fail "shed body: $(cat "$SCRATCH/body")"
sed -n 5,6p "$SCRATCH/all.ndjson" >"$SCRATCH/batch.ndjson"
code="$(curl -s -o "$SCRATCH/body" -D "$SCRATCH/headers" -w '%{http_code}' -XPOST \
	-H 'Content-Type: application/x-ndjson' --data-binary "@$SCRATCH/batch.ndjson" "$url/plays")"
[ "$code" = 503 ] || [ "$code" = 429 ] || fail "POST /plays at the in-flight limit answered $code"
grep -qi '^retry-after: [0-9]' "$SCRATCH/headers" || fail "no Retry-After on the shed batch"

# Meanwhile health, the read API and the page answer.
[ "$(get /healthz)" = 200 ] || fail "/healthz during overload: $(cat "$SCRATCH/body")"
[ "$(get '/api/top?region=EU&period=hour&at=2026-11-20T13')" = 200 ] ||
	fail "/api/top during overload: $(cat "$SCRATCH/body")"
grep -q '"rank":10' "$SCRATCH/body" || fail "/api/top during overload: $(head -c 300 "$SCRATCH/body")"
[ "$(get /)" = 200 ] && grep -q 'Top Songs' "$SCRATCH/body" || fail "the page during overload"
[ "$(metric topsongs_api_inflight_requests)" = 2 ] || fail "the held plays were answered too early"

# The held plays are accepted once Kafka acknowledges them.
for p in "${held_pids[@]}"; do wait "$p" || true; done
for i in 2 3; do
	[ "$(cat "$SCRATCH/held$i.code")" = 202 ] || fail "held play $i: $(cat "$SCRATCH/held$i.code") $(cat "$SCRATCH/held$i.body")"
done
shed="$(curl -fs "$url/metrics" | awk '$1 ~ /reason="shed"/ {print $2}')"
[ "${shed:-0}" -ge 2 ] || fail "topsongs_api_rejected_events_total{reason=\"shed\"} is ${shed:-none}"

# Recovery: the shed play, resent as it is, and the batch are accepted now.
# (Its 202 is the shared response: the same body and headers as before.)
code="$(curl -s -o "$SCRATCH/body" -D "$SCRATCH/headers" -w '%{http_code}' -XPOST \
	-H 'Content-Type: application/json' --data-binary "@$SCRATCH/ev4.json" "$url/play")"
[ "$code" = 202 ] || fail "after overload: $code $(cat "$SCRATCH/body")"
[ "$(cat "$SCRATCH/body")" = '{"status":"accepted"}' ] || fail "202 body: $(cat "$SCRATCH/body")"
[ "$(header Content-Type)" = application/json ] && [ "$(header Cache-Control)" = no-store ] &&
	[ "$(header X-Content-Type-Options)" = nosniff ] || fail "202 headers: $(cat "$SCRATCH/headers")"
[ "$(post /plays application/x-ndjson "$SCRATCH/batch.ndjson")" = 202 ] ||
	fail "batch after overload: $(cat "$SCRATCH/body")"

# Exactly the accepted plays are in Kafka, each once: the shed ones got there
# only by their resend.
for i in 1 2 3 4 5 6; do id_of "$(line $i)"; done | sort >"$SCRATCH/want"
for _ in $(seq 1 30); do
	consume "$topic" | cut -f2 | python3 -c 'import json,sys; [print(json.loads(l)["event_id"]) for l in sys.stdin]' |
		sort >"$SCRATCH/got" || true
	[ "$(wc -l <"$SCRATCH/got")" -ge 6 ] && break
	sleep 1
done
diff "$SCRATCH/want" "$SCRATCH/got" >&2 || fail "records in Kafka differ from the accepted plays"
echo "ok: shed with 503 + Retry-After at api.max-inflight=2 ($shed shed), reads served, recovered"
