#!/usr/bin/env bash
# A backlog far larger than ingest's prefetch queue. librdkafka 2.0 stops
# fetching while that queue is full and would look again only up to a
# second after it drains; ingest wakes the fetcher with a watermark query
# once the queue is half empty, and seeks a starved partition to its own
# position if the queue runs dry anyway (docs/ingest.md, "Catching up").
# Each way must happen here, and every record must still be filed exactly
# once: none skipped, none taken twice from a refetch. Then the memory bound:
# with batches that would wait ten minutes to be committed, the open
# batches' record bytes (ingest.buffer-kbytes) make ingest commit early.
. "$(dirname "$0")/lib.sh"
: "${PY:?}"

topic="$(new_topic)"
lake="$SCRATCH/lake"
db="t$$_$RANDOM"
psql -X -q "$TOPSONGS_PG_URL" -c "CREATE DATABASE $db" || fail "cannot create database $db"
export TOPSONGS_PG_URL="${TOPSONGS_PG_URL%/*}/$db"
n=40000

# About 8 MB of plays, keyed by listener as the api keys them.
make_events "$n" 12 | python3 -c '
import json, sys
for line in sys.stdin:
    sys.stdout.write(json.loads(line)["user_id"] + "\t" + line)' >"$SCRATCH/records.tsv"
kcat -P -b "$TOPSONGS_KAFKA_BROKERS" -t "$topic" -K $'\t' -z lz4 <"$SCRATCH/records.tsv" ||
	fail "cannot produce the test records"

# wait_rows TOPIC N LOG: until ingest ($pid, logging to LOG) has committed
# N rows of TOPIC, for at most 2 minutes.
wait_rows() {
	for _ in $(seq 1 240); do
		[ "$(topic_rows "$1")" -ge "$2" ] && return 0
		kill -0 "$pid" 2>/dev/null || fail "ingest died: $(tail -3 "$3")"
		sleep 0.5
	done
}

# metric PORT NAME: the value of topsongs_ingest_NAME on the /metrics of
# the ingest listening on PORT (empty when it does not answer).
metric() {
	curl -fs "http://127.0.0.1:$1/metrics" 2>/dev/null |
		awk -v m="topsongs_ingest_$2" '$1 == m { print $2 }'
}

# wait_consumed PORT N LOG: until ingest ($pid, metrics on PORT, logging to
# LOG) has read N records, for at most 2 minutes; fails otherwise.
wait_consumed() {
	for _ in $(seq 1 240); do
		[ "$(metric "$1" records_consumed_total)" = "$2" ] && return 0
		kill -0 "$pid" 2>/dev/null || fail "ingest died: $(tail -3 "$3")"
		sleep 0.5
	done
	fail "ingest read $(metric "$1" records_consumed_total) of $2 records in 2 minutes"
}

# slow_ingest TOPIC LOG PORT [ARGS...]: one ingest over TOPIC whose batches
# would wait ten minutes and hold any number of rows, so that only what a
# part checks commits them; sets pid. Metrics on PORT (0: any).
slow_ingest() {
	local t="$1" log="$2" port="$3"
	shift 3
	"$TOPSONGS_BIN" ingest --kafka-topic "$t" --ingest-group "g-$t" \
		--ingest-dlq-topic "$topic-dlq" --lake-url "$lake" --ingest-flush-ms 600000 \
		--ingest-max-rows 100000000 --ingest-compact-interval-s 0 \
		--ingest-metrics-listen "127.0.0.1:$port" "$@" >"$log" 2>&1 &
	pid=$!
	pids_to_stop+=("$pid")
}

# stop_ingest LOG: SIGTERM to $pid, which must exit cleanly.
stop_ingest() {
	kill -TERM "$pid"
	wait "$pid" || fail "ingest exited $? on SIGTERM: $(tail -5 "$1")"
}

# backlog MODE TOPIC: one ingest over the records in TOPIC, with the smallest prefetch queue (1 MB), which the backlog fills
# again and again. MODE "seek": the refiller left out (failpoint), so the
# fetcher must be woken by seeks; MODE "refill": by watermark queries
# before the queue runs dry. Either way every record is in the lake once.
backlog() {
	local mode="$1" t="$2" lake="$SCRATCH/lake-$1" mport woken metric
	mport="$(free_port)"
	if [ "$mode" = seek ]; then
		export TS_FAILPOINT=ingest.no-refill:1
		metric=topsongs_ingest_fetch_wakeups_total
	else
		metric=topsongs_ingest_fetch_refills_total
	fi
	"$TOPSONGS_BIN" ingest --kafka-topic "$t" --ingest-group "g-$t" \
		--ingest-dlq-topic "$topic-dlq" --lake-url "$lake" --ingest-fetch-queue-kbytes 1024 \
		--ingest-flush-ms 500 --ingest-compact-interval-s 0 \
		--ingest-metrics-listen "127.0.0.1:$mport" >"$SCRATCH/ingest-$mode.log" 2>&1 &
	pid=$!
	unset TS_FAILPOINT
	pids_to_stop+=("$pid")
	wait_rows "$t" "$n" "$SCRATCH/ingest-$mode.log"
	[ "$(topic_rows "$t")" = "$n" ] || fail "$mode: $(topic_rows "$t") rows committed for $n records"
	curl -fs "http://127.0.0.1:$mport/metrics" >"$SCRATCH/metrics-$mode" || fail "no /metrics on the ingest"
	woken="$(awk -v m="$metric" '$1 == m { print $2 }' "$SCRATCH/metrics-$mode")"
	[ -n "$woken" ] || fail "metric $metric missing"
	[ "$woken" -gt 0 ] || fail "$mode: the fetcher was never woken over a backlog of $n records"
	if [ "$mode" = seek ]; then
		grep -q "^topsongs_ingest_fetch_refills_total 0\$" "$SCRATCH/metrics-$mode" ||
			fail "watermark queries sent with the refiller left out"
	fi
	grep -q "^topsongs_ingest_records_consumed_total $n\$" "$SCRATCH/metrics-$mode" ||
		fail "$mode: consumed $(grep records_consumed "$SCRATCH/metrics-$mode") for $n records"
	kill -TERM "$pid"
	wait "$pid" || fail "ingest ($mode) exited $? on SIGTERM: $(tail -5 "$SCRATCH/ingest-$mode.log")"
	! grep -q "kafka seek" "$SCRATCH/ingest-$mode.log" ||
		fail "a seek failed: $(grep "kafka seek" "$SCRATCH/ingest-$mode.log" | head -1)"
	"$PY" - "$lake" "$SCRATCH/records.tsv" <<'PY' || fail "$mode: the lake is not the records once each"
import duckdb, json, sys
lake, records = sys.argv[1], sys.argv[2]
sent = sorted(json.loads(line.split("\t", 1)[1])["event_id"] for line in open(records))
got = [r[0] for r in duckdb.sql(f"""select event_id from read_parquet('{lake}/raw/**/*.parquet')
    order by event_id""").fetchall()]
assert got == sent, f"{len(got)} rows in the lake for {len(sent)} records; " \
    f"{len(set(got))} distinct, {len(set(sent) - set(got))} missing"
# and each partition's offsets are there once each, with no gap
gaps = duckdb.sql(f"""select kafka_partition, count(*), max(kafka_offset) - min(kafka_offset) + 1
    from read_parquet('{lake}/raw/**/*.parquet') group by 1
    having count(*) <> max(kafka_offset) - min(kafka_offset) + 1""").fetchall()
assert not gaps, f"offsets with gaps or repeats: {gaps}"
PY
	echo "$mode: backlog of $n records filed exactly once; fetcher woken $woken times"
}
kcat -P -b "$TOPSONGS_KAFKA_BROKERS" -t "$topic-r" -K $'\t' -z lz4 <"$SCRATCH/records.tsv" ||
	fail "cannot produce the test records again"
backlog seek "$topic"
backlog refill "$topic-r"

# The buffer bound: 64 KB of record values in open batches at most, with
# no other reason to commit for 10 minutes (age, quiet partitions, rows and
# bytes per batch).
topic2="$topic-b"
head -n 3000 "$SCRATCH/records.tsv" | kcat -P -b "$TOPSONGS_KAFKA_BROKERS" -t "$topic2" -K $'\t' ||
	fail "cannot produce the second test records"
mport2="$(free_port)"
slow_ingest "$topic2" "$SCRATCH/ingest2.log" "$mport2" --ingest-buffer-kbytes 64 --ingest-quiet-ms 0
# The bound covers the batches the committer has not finished too: once
# every record is read, ~200 bytes a record, 64 KB holds about 320, so all
# but the last few hundred must be committed by the bound.
wait_consumed "$mport2" 3000 "$SCRATCH/ingest2.log"
wait_rows "$topic2" 2500 "$SCRATCH/ingest2.log"
rows2() { topic_rows "$topic2"; }
[ "$(rows2)" -ge 2500 ] || fail "only $(rows2) of 3000 rows committed: open batches are not bounded"
sleep 1
[ "$(rows2)" -lt 3000 ] || fail "all 3000 rows committed with no reason to commit the last batches"
stop_ingest "$SCRATCH/ingest2.log"
# SIGTERM commits the rest: every record once
[ "$(rows2)" = 3000 ] || fail "$(rows2) rows committed for 3000 records after SIGTERM"
echo "open batches bounded: 64 KB of records held at most"

# A burst's end: the same ten-minute batches, but partitions caught up and
# without a record for ingest.quiet-ms (100 by default) are committed at
# once, without a SIGTERM.
topic3="$topic-q"
head -n 3000 "$SCRATCH/records.tsv" | kcat -P -b "$TOPSONGS_KAFKA_BROKERS" -t "$topic3" -K $'\t' ||
	fail "cannot produce the third test records"
slow_ingest "$topic3" "$SCRATCH/ingest3.log" 0
wait_rows "$topic3" 3000 "$SCRATCH/ingest3.log"
[ "$(topic_rows "$topic3")" = 3000 ] ||
	fail "$(topic_rows "$topic3") of 3000 rows committed after a burst ended: quiet partitions wait"
stop_ingest "$SCRATCH/ingest3.log"
[ "$(topic_rows "$topic3")" = 3000 ] || fail "$(topic_rows "$topic3") rows after SIGTERM"
echo "a burst's last batches committed once their partitions went quiet"

# A backlog's end: a batch that began 1,000 records or more behind its
# partition's end is committed as soon as the partition has caught up, not
# ingest.quiet-ms later — ten minutes here, as are the batches' age and
# size, so that nothing else commits them before a SIGTERM. Keyed by event,
# so that each partition holds thousands of the records.
topic4="$topic-c"
python3 -c '
import json, sys
for line in open(sys.argv[1]):
    line = line.split("\t", 1)[1]
    sys.stdout.write(json.loads(line)["event_id"] + "\t" + line)' "$SCRATCH/records.tsv" >"$SCRATCH/by-event.tsv"
kcat -P -b "$TOPSONGS_KAFKA_BROKERS" -t "$topic4" -K $'\t' -z lz4 <"$SCRATCH/by-event.tsv" ||
	fail "cannot produce the fourth test records"
mport4="$(free_port)"
started="$(date +%s.%N)"
slow_ingest "$topic4" "$SCRATCH/ingest4.log" "$mport4" --ingest-quiet-ms 600000
wait_rows "$topic4" "$n" "$SCRATCH/ingest4.log"
[ "$(topic_rows "$topic4")" = "$n" ] ||
	fail "$(topic_rows "$topic4") of $n rows committed after a backlog was worked off"
seals="$(metric "$mport4" backlog_seals_total)"
[ "${seals:-0}" -ge 6 ] || fail "backlog_seals_total is '${seals}', not one at least per partition"
# The last commit's time: after this ingest started, not in the future.
last="$(metric "$mport4" last_commit_seconds)"
python3 -c "import sys, time; sys.exit(not float(sys.argv[2]) <= float(sys.argv[1]) <= time.time())" \
	"${last:-0}" "$started" || fail "last_commit_seconds is '$last', not between $started and now"
stop_ingest "$SCRATCH/ingest4.log"
echo "a backlog's last batches committed once their partitions caught up ($seals)"

# Fewer than 1,000 records behind is no backlog: with the same settings,
# 300 records (about 50 a partition) wait for the SIGTERM.
topic5="$topic-s"
head -n 300 "$SCRATCH/by-event.tsv" | kcat -P -b "$TOPSONGS_KAFKA_BROKERS" -t "$topic5" -K $'\t' ||
	fail "cannot produce the fifth test records"
mport5="$(free_port)"
slow_ingest "$topic5" "$SCRATCH/ingest5.log" "$mport5" --ingest-quiet-ms 600000
wait_consumed "$mport5" 300 "$SCRATCH/ingest5.log"
sleep 1
[ "$(topic_rows "$topic5")" = 0 ] ||
	fail "$(topic_rows "$topic5") rows of a 300-record stream committed with no reason to"
[ "$(metric "$mport5" last_commit_seconds)" = 0.000000 ] ||
	fail "last_commit_seconds is '$(metric "$mport5" last_commit_seconds)' with nothing committed"
stop_ingest "$SCRATCH/ingest5.log"
[ "$(topic_rows "$topic5")" = 300 ] || fail "$(topic_rows "$topic5") rows after SIGTERM"
echo "a stream under 1,000 records behind waits for its batches' age, as before"
