#!/usr/bin/env bash
# ingest files every record of the topic into raw/ exactly once, by event
# time, even when it is killed with SIGKILL at random moments and restarted;
# unfileable records go to the dead-letter topic with a reason; DuckDB reads
# the lake with its Hive partitions; no uncommitted file is ever left visible.
. "$(dirname "$0")/lib.sh"
: "${PY:?}"

topic="$(new_topic)"
lake="$SCRATCH/lake"
# A broker of its own to stop and restart, so no other test sees it go.
[ "${INGEST_SCENARIO:-kill}" != broker ] || use_own_broker
if [ "${INGEST_SCENARIO:-kill}" = pg ]; then
	# A PostgreSQL of its own, so stopping it disturbs no other test.
	pg_dir="$SCRATCH/pg"
	pg_port="$(free_port)"
	trap 'cleanup; "$ROOT/scripts/pg.sh" destroy "$pg_dir" >/dev/null 2>&1 || true' EXIT
	"$ROOT/scripts/pg.sh" start "$pg_dir" "$pg_port" >/dev/null 2>&1 || fail "could not start PostgreSQL"
	export TOPSONGS_PG_URL="postgresql://topsongs@127.0.0.1:$pg_port/topsongs"
fi
# A database of its own, so that lake_hours holds this test's rows only.
db="t$$_$RANDOM"
psql -X -q "$TOPSONGS_PG_URL" -c "CREATE DATABASE $db" || fail "cannot create database $db"
export TOPSONGS_PG_URL="${TOPSONGS_PG_URL%/*}/$db"
if [ "${INGEST_LAKE_KIND:-local}" = s3 ]; then
	use_minio
	bucket="t0401-$$-$RANDOM"
	MINIO_ROOT_USER="$TOPSONGS_S3_ACCESS_KEY" MINIO_ROOT_PASSWORD="$TOPSONGS_S3_SECRET_KEY" \
		"$ROOT/scripts/minio.sh" mb "$TS_MINIO_PORT" "$bucket" || fail "cannot create the bucket"
	lake="s3://$bucket/lake"
fi
args=(--kafka-topic "$topic" --ingest-group "g-$topic" --ingest-dlq-topic "$topic-dlq"
	--lake-url "$lake" --ingest-flush-ms 500 --ingest-max-rows 700 --ingest-session-timeout-ms 6000
	--ingest-compact-interval-s 1 --ingest-metrics-listen 127.0.0.1:0)
# INGEST_COMPACT_TARGET_KB: compaction writes files of about this size, so
# a closed hour holds several (the failpoint scenarios crash between them).
target_kb="${INGEST_COMPACT_TARGET_KB:-}"
[ -z "$target_kb" ] || args+=(--ingest-compact-target-kbytes "$target_kb")

# 6000 plays over the last 6 hours, in event-time order as clients send them,
# plus 5 records ingest must refuse.
python3 - "$SCRATCH/records.tsv" <<'PY'
import datetime, json, random, sys, uuid
rnd = random.Random(5)
now = datetime.datetime.now(datetime.timezone.utc)
times = sorted(now - datetime.timedelta(seconds=rnd.randint(0, 6 * 3600)) for _ in range(6000))
with open(sys.argv[1], "w") as out:
    for i in range(6000):
        ts = times[i]
        ev = {"event_id": str(uuid.UUID(int=rnd.getrandbits(128), version=4)),
              "user_id": "u%d" % rnd.randint(1, 300), "song_id": "s%d" % rnd.randint(1, 50),
              "region": rnd.choice(["NA", "SA", "EU", "AF", "AS", "OC"]),
              "ts": ts.isoformat(timespec="milliseconds")}
        if i % 3 == 0:
            ev.update(country="BR", city="S\u00e3o Paulo", lat=-23.5, lon=-46.6, device="web",
                      duration_ms=rnd.randint(0, 400000))
        out.write("%s\t%s\n" % (ev["user_id"], json.dumps(ev, ensure_ascii=False)))
        if i % 1200 == 7:
            bad = ["not json", '{"event_id":"x"}', json.dumps(dict(ev, ts="2001-01-01T00:00:00Z"))]
            out.write("bad\t%s\n" % bad[i % 3])
PY
# produce FROM [TO]: lines FROM..TO of the records to the topic.
produce() {
	sed -n "$1,${2:-\$}p" "$SCRATCH/records.tsv" |
		kcat -P -b "$TOPSONGS_KAFKA_BROKERS" -t "$topic" -K $'\t' -z lz4 ||
		fail "cannot produce the test records"
}
# With PostgreSQL stopped mid-stream, the second half comes during the
# outage: ingest then has batches to commit while it is down, however fast
# it filed the first half.
if [ "${INGEST_SCENARIO:-kill}" = pg ]; then
	produce 1 3000
else
	produce 1
fi

count_rows() { topic_rows "$topic"; }

# wait_more N: until N more rows than now are committed (at most 15 s).
wait_more() {
	local target=$(($(count_rows) + $1))
	for _ in $(seq 1 60); do
		[ "$(count_rows)" -ge "$target" ] && return 0
		sleep 0.25
	done
}

start_ingest() {
	"$TOPSONGS_BIN" ingest "${args[@]}" >>"$SCRATCH/ingest.log" 2>&1 &
	last_pid=$!
	pids_to_stop+=("$last_pid")
}

# ride_out WHAT: after an outage of WHAT, the same ingest ($last_pid) files
# every record and stops cleanly; when rows were still due as it began
# (rows_at_stop, if set), it must have restarted itself on the way.
ride_out() {
	for _ in $(seq 1 240); do
		[ "$(count_rows)" -ge 6000 ] && break
		kill -0 "$last_pid" 2>/dev/null || fail "ingest died during the outage of $1: $(tail -3 "$SCRATCH/ingest.log")"
		sleep 0.25
	done
	[ "$(count_rows)" -ge 6000 ] || fail "ingest made no progress after $1 came back"
	# With rows still to commit, the outage outlasted the requests' retries.
	[ "${rows_at_stop:-6000}" -ge 6000 ] || grep -q "unavailable restart_in_ms=" "$SCRATCH/ingest.log" ||
		fail "ingest never restarted itself during the outage of $1"
	kill -TERM "$last_pid"
	wait "$last_pid" || fail "ingest exited $? after the outage of $1"
}

kills=0
if [ "${INGEST_SCENARIO:-kill}" = minio ]; then
	# MinIO stops mid-stream and comes back. ingest retries each request;
	# once those give up it restarts itself (ingest.unavailable-retry-s), so
	# the same process must carry on to the end. Nothing may be lost or
	# doubled.
	case "$TS_MINIO_STATE" in
	"$SCRATCH"/*) ;;
	*) fail "stopping MinIO needs one of the script's own (TOPSONGS_S3_ENDPOINT empty, see 0405)" ;;
	esac
	restart_minio() { "$ROOT/scripts/minio.sh" start "$TS_MINIO_STATE" "$TS_MINIO_PORT" >/dev/null 2>&1; }
	# Its PID changes with the restart: stopped by its folder.
	trap 'cleanup; "$ROOT/scripts/minio.sh" stop "$TS_MINIO_STATE"' EXIT
	start_ingest
	wait_more 300
	"$ROOT/scripts/minio.sh" stop "$TS_MINIO_STATE"
	rows_at_stop="$(count_rows)"
	sleep 4
	restart_minio || fail "MinIO did not restart"
	kills=$((kills + 1))
	ride_out MinIO
elif [ "${INGEST_SCENARIO:-kill}" = pg ]; then
	# PostgreSQL stops mid-stream and comes back: the batch in hand fails,
	# ingest restarts itself (ingest.unavailable-retry-s) and the same
	# process carries on to the end. Before, the rows still due were
	# counted as PostgreSQL stopped; a fast ingest then committed them all
	# before it was down (one run in about ten).
	start_ingest
	wait_more 300
	"$ROOT/scripts/pg.sh" stop "$pg_dir" >/dev/null 2>&1 || fail "could not stop PostgreSQL"
	rows_at_stop=0 # the second half is still due: a restart must be seen
	produce 3001
	sleep 3
	"$ROOT/scripts/pg.sh" start "$pg_dir" "$pg_port" >/dev/null 2>&1 || fail "could not restart PostgreSQL"
	kills=$((kills + 1))
	ride_out PostgreSQL
elif [ "${INGEST_SCENARIO:-kill}" = failpoints ]; then
	# Static membership makes a restarted member get its partitions back at
	# once, so many crashes fit in a short test.
	args+=(--ingest-instance-id "i-$topic")
	# A SIGKILL at every step of the commit protocol and of compaction ...
	if [ "${INGEST_LAKE_KIND:-local}" = s3 ]; then
		compact_fps="compact.merged compact.uploaded compact.recorded"
	else
		compact_fps="compact.merged compact.swapped"
	fi
	for fp in ingest.staged ingest.committed ingest.renamed ingest.synced ingest.published $compact_fps; do
		TS_FAILPOINT="$fp:2" "$TOPSONGS_BIN" ingest "${args[@]}" >>"$SCRATCH/ingest.log" 2>&1 &
		pid=$!
		for _ in $(seq 1 80); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.25
		done
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		kills=$((kills + 1))
	done
	for fp in ingest.staged ingest.committed ingest.renamed ingest.synced ingest.published $compact_fps; do
		grep -q "failpoint $fp: SIGKILL" "$SCRATCH/ingest.log" || fail "failpoint $fp was never reached"
	done
	# ... then SIGKILLs at random moments, for at least 20 crashes in all.
	while [ "$kills" -lt 22 ]; do
		start_ingest
		sleep "$(python3 -c "import random; print(round(random.uniform(0.2, 1.2), 2))")"
		kill -9 "$last_pid" 2>/dev/null || true
		wait "$last_pid" 2>/dev/null || true
		kills=$((kills + 1))
	done
elif [ "${INGEST_SCENARIO:-kill}" = broker ]; then
	# The broker stops under a running ingest and comes back; ingest rides
	# through (or dies and is restarted) without losing or doubling a record.
	start_ingest
	wait_more 300
	"$ROOT/scripts/kafka.sh" stop "$TS_KAFKA_STATE"
	sleep 3
	"$ROOT/scripts/kafka.sh" start "$TS_KAFKA_STATE" "$TS_KAFKA_PORT" >&2 || fail "broker restart"
	kills=$((kills + 1))
	# The same process must carry on to the end once the broker is back
	# (a broker outage is ridden out by librdkafka: no restart needed).
	ride_out "the broker"
elif [ "${INGEST_SCENARIO:-kill}" = rebalance ]; then
	# Two members share the partitions; one is killed mid-stream while the
	# group rebalances around it, a third joins, the second leaves cleanly.
	start_ingest
	a=$last_pid
	wait_more 1
	start_ingest
	b=$last_pid
	wait_more 300
	kill -9 "$a" && kills=$((kills + 1))
	wait "$a" 2>/dev/null || true
	start_ingest
	c=$last_pid
	wait_more 300
	kill -TERM "$b"
	wait "$b" || fail "a member exited $? after SIGTERM during a rebalance"
	kill -9 "$c" && kills=$((kills + 1))
	wait "$c" 2>/dev/null || true
	kills=$((kills + 1)) # the clean leave counts as a disruption too
else
	# Kill -9 at random moments while it is committing, four times: each round
	# waits until this run has committed something, then kills it soon after.
	kills=0
	for round in 1 2 3 4; do
		before="$(count_rows)"
		"$TOPSONGS_BIN" ingest "${args[@]}" >>"$SCRATCH/ingest.log" 2>&1 &
		pid=$!
		for _ in $(seq 1 60); do
			[ "$(count_rows)" -gt "$before" ] && break
			sleep 0.25
		done
		sleep "$(python3 -c "import random; print(round(random.uniform(0.0, 0.6), 2))")"
		kill -9 "$pid" 2>/dev/null && kills=$((kills + 1))
		wait "$pid" 2>/dev/null || true
	done
	[ "$kills" -ge 3 ] ||
		fail "ingest exited by itself before it could be killed ($kills kills): $(grep -E 'warn|error|stopped' "$SCRATCH/ingest.log" | tail -5)"
fi

# Then run to the end and stop cleanly.
mport="$(free_port)"
"$TOPSONGS_BIN" ingest "${args[@]}" --ingest-metrics-listen "127.0.0.1:$mport" >>"$SCRATCH/ingest.log" 2>&1 &
pid=$!
pids_to_stop+=("$pid")
for _ in $(seq 1 120); do
	[ "$(count_rows)" -ge 6000 ] && break
	sleep 0.5
done
# A member killed earlier keeps its partitions until its session times out;
# once they move here, their staging leftovers are removed. Wait for that.
staging_clean() {
	if [ "${INGEST_LAKE_KIND:-local}" = s3 ]; then
		[ -z "$("$TOPSONGS_BIN" store ls _staging/ --lake-url "$lake" 2>/dev/null)" ]
	else
		[ -z "$(find "$lake/_staging" -name '*.parquet' 2>/dev/null)" ]
	fi
}
for _ in $(seq 1 120); do
	staging_clean && break
	sleep 0.25
done
sleep 1
# Closed hours get compacted: into one file each, or with a target size
# into files that no further round would merge.
for _ in $(seq 1 120); do
	if [ -z "$target_kb" ]; then
		due="closed_at IS NOT NULL AND (files > 1 OR compacted_at IS NULL OR updated_at > compacted_at)"
	else
		due="closed_at IS NOT NULL AND files > 1 AND (compacted_at IS NULL OR updated_at > compacted_at)"
	fi
	[ "$(psql -X -q -tA "$TOPSONGS_PG_URL" -c "SELECT count(*) FROM lake_hours WHERE $due")" = 0 ] && break
	sleep 0.25
done
curl -fs "http://127.0.0.1:$mport/metrics" >"$SCRATCH/metrics" || fail "no /metrics on the ingest"
for m in records_consumed_total rows_committed_total dead_letters_total late_rows_total \
	files_committed_total bytes_committed_total consumer_lag_records commit_seconds_count; do
	grep -q "^topsongs_ingest_$m " "$SCRATCH/metrics" || fail "metric $m missing"
done
grep -q '^topsongs_ingest_consumer_lag_records 0$' "$SCRATCH/metrics" ||
	fail "lag not 0 at the end: $(grep lag "$SCRATCH/metrics")"
kill -TERM "$pid"
wait "$pid" || fail "ingest exited $? on SIGTERM: $(tail -5 "$SCRATCH/ingest.log")"
closed="$(psql -X -q -tA "$TOPSONGS_PG_URL" -c "SELECT 'raw/region=' || region || '/date=' || day || '/hour=' || lpad(hour::text, 2, '0') FROM lake_hours WHERE closed_at IS NOT NULL")"
[ -n "$closed" ] || fail "no closed hour to compact"
split=0
for d in $closed; do
	if [ "${INGEST_LAKE_KIND:-local}" = s3 ]; then
		"$TOPSONGS_BIN" store ls "$d/" --lake-url "$lake" | grep '\.parquet' | cut -f1 >"$SCRATCH/sizes" || true
	else
		find "$lake/$d" -name '*.parquet' -printf '%s\n' >"$SCRATCH/sizes"
	fi
	n="$(wc -l <"$SCRATCH/sizes")"
	if [ -z "$target_kb" ]; then
		[ "$n" = 1 ] || fail "$d holds $n files after compaction"
		continue
	fi
	[ "$n" -ge 1 ] || fail "$d holds no file"
	[ "$n" = 1 ] || split=$((split + 1))
	# a merge takes files adding up to the target at most (merged, they
	# shrink: one footer, one dictionary per column); allow half again
	big="$(awk -v t=$((target_kb * 1536)) '$1 > t' "$SCRATCH/sizes" | wc -l)"
	[ "$big" = 0 ] || fail "$d holds files over the target: $(tr '\n' ' ' <"$SCRATCH/sizes")"
done
if [ -n "$target_kb" ]; then
	# and the round that made them left nothing due (no endless re-merging)
	[ "$(psql -X -q -tA "$TOPSONGS_PG_URL" -c "SELECT count(*) FROM lake_hours WHERE $due")" = 0 ] ||
		fail "hours still due for compaction: $(psql -X -q -tA "$TOPSONGS_PG_URL" -c "SELECT region, day, hour, files, compacted_at FROM lake_hours WHERE $due")"
fi
[ -z "$target_kb" ] || [ "$split" -ge 1 ] || fail "no closed hour was compacted into several files"
[ "${INGEST_LAKE_KIND:-local}" = s3 ] || [ -z "$(find "$lake/raw" -name '.compact-manifest')" ] ||
	fail "a compaction manifest was left in the lake"
[ "${INGEST_LAKE_KIND:-local}" = s3 ] || [ -z "$(find "$lake/_staging" -type f 2>/dev/null)" ] ||
	fail "compaction leftovers in _staging"
echo "compacted: $(echo "$closed" | wc -l) closed hours (${target_kb:+target $target_kb KB, $split split})"

if [ "${INGEST_LAKE_KIND:-local}" = s3 ]; then
	# DuckDB cannot reach S3 here (its httpfs extension is a download), so
	# the lake is mirrored with our own store client and read locally.
	[ -z "$("$TOPSONGS_BIN" store ls _staging/ --lake-url "$lake")" ] || fail "staging leftovers after a clean stop"
	"$TOPSONGS_BIN" store ls raw/ --lake-url "$lake" | cut -f2 >"$SCRATCH/keys"
	[ -s "$SCRATCH/keys" ] || fail "no object under raw/"
	while IFS= read -r key; do
		mkdir -p "$SCRATCH/mirror/$(dirname "$key")"
		"$TOPSONGS_BIN" store get "$key" --lake-url "$lake" --file "$SCRATCH/mirror/$key" ||
			fail "cannot get $key"
	done <"$SCRATCH/keys"
	lake="$SCRATCH/mirror"
fi
[ -z "$(find "$lake/_staging" -name '*.parquet' 2>/dev/null)" ] || fail "staging leftovers after a clean stop"
# The bookkeeping is the lake's manifest: the files that hold committed rows
# (coalesce(compacted_into, path)) are exactly the files under raw/.
psql -X -q -tA "$TOPSONGS_PG_URL" -c "SELECT DISTINCT coalesce(compacted_into, path) FROM ingest_files WHERE published ORDER BY 1" >"$SCRATCH/manifest"
(cd "$lake" && find raw -name '*.parquet' | LC_ALL=C sort) >"$SCRATCH/listed"
LC_ALL=C sort -o "$SCRATCH/manifest" "$SCRATCH/manifest"
diff "$SCRATCH/manifest" "$SCRATCH/listed" >&2 || fail "ingest_files (left) and the files under raw/ (right) differ"
"$PY" - "$lake" "$SCRATCH/records.tsv" <<'PY'
import datetime, duckdb, json, sys
lake, records = sys.argv[1], sys.argv[2]
sent = {}
for line in open(records):
    key, value = line.rstrip("\n").split("\t", 1)
    if key != "bad":
        ev = json.loads(value)
        sent[ev["event_id"]] = ev
rows = duckdb.sql(f"""select event_id, user_id, song_id, region, date, hour, ts, country, city,
    lat, lon, device, duration_ms, kafka_partition, kafka_offset
    from read_parquet('{lake}/raw/**/*.parquet', hive_partitioning=true)""").fetchall()
assert len(rows) == len(sent), f"{len(rows)} rows in the lake for {len(sent)} records"
offsets = {(r[13], r[14]) for r in rows}
assert len(offsets) == len(rows), "a Kafka record is in the lake twice"
for r in rows:
    ev = sent.pop(r[0])
    ts = datetime.datetime.fromisoformat(ev["ts"]).astimezone(datetime.timezone.utc)
    assert (r[1], r[2], r[3]) == (ev["user_id"], ev["song_id"], ev["region"]), (r, ev)
    assert str(r[4]) == ts.strftime("%Y-%m-%d") and int(r[5]) == ts.hour, (r, ev)
    assert r[6].replace(tzinfo=datetime.timezone.utc) if r[6].tzinfo is None else r[6], r
    assert abs(r[6].replace(tzinfo=None) - ts.replace(tzinfo=None)) < datetime.timedelta(milliseconds=1), (r[6], ts)
    assert r[7] == ev.get("country") and r[8] == ev.get("city") and r[11] == ev.get("device"), (r, ev)
    assert r[12] == ev.get("duration_ms"), (r, ev)
assert not sent
# pyarrow sees the same rows and the Hive partition columns.
import pyarrow.dataset as ds
t = ds.dataset(f"{lake}/raw", format="parquet", partitioning="hive").to_table()
assert t.num_rows == len(rows), (t.num_rows, len(rows))
assert {"region", "date", "hour", "event_id", "ts", "kafka_offset"} <= set(t.column_names), t.column_names
assert t.schema.field("ts").type.unit == "ms" and t.schema.field("ts").type.tz in ("UTC", "+00:00"), t.schema.field("ts").type
ids = set(t.column("event_id").to_pylist())
assert len(ids) == len(rows), "pyarrow sees a duplicate event_id"
print("ok:", len(rows), "records in the lake exactly once (DuckDB and pyarrow)")
PY
[ $? = 0 ] || fail "lake check"

# Bookkeeping: every row counted once in lake_hours; hours that every
# watermark passed by the lateness are closed, the current one is open.
q() { psql -X -q -tA "$TOPSONGS_PG_URL" -c "$1"; }
[ "$(q "SELECT sum(rows) FROM lake_hours")" = 6000 ] || fail "lake_hours counts $(q "SELECT sum(rows) FROM lake_hours") rows"
[ "$(q "SELECT count(*) FROM lake_hours WHERE closed_at IS NOT NULL AND day + make_interval(hours => hour) < now() AT TIME ZONE 'UTC' - interval '3 hours'")" -ge 6 ] ||
	fail "old hours not closed: $(q "SELECT region, day, hour, closed_at FROM lake_hours ORDER BY 2, 3, 1")"
[ "$(q "SELECT count(*) FROM lake_hours WHERE closed_at IS NOT NULL AND day + make_interval(hours => hour + 1) > now() AT TIME ZONE 'UTC'")" = 0 ] ||
	fail "the current hour was closed"
[ "$(q "SELECT count(*) FROM lake_hours WHERE needs_recompute")" = 0 ] || fail "recompute marked without late data"

# A late play for an hour already closed goes to its true hour and marks it.
late_ts="$(python3 -c 'import datetime; print((datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=4)).isoformat(timespec="milliseconds"))')"
late_hour="$(python3 -c 'import datetime; print((datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=4)).hour)')"
printf 'late	{"event_id":"00000000-0000-4000-8000-00000000abcd","user_id":"late","song_id":"s1","region":"OC","ts":"%s"}
' "$late_ts" |
	kcat -P -b "$TOPSONGS_KAFKA_BROKERS" -t "$topic" -K $'\t' || fail "cannot produce the late play"
"$TOPSONGS_BIN" ingest "${args[@]}" >>"$SCRATCH/ingest.log" 2>&1 &
pid=$!
pids_to_stop+=("$pid")
for _ in $(seq 1 80); do
	[ "$(q "SELECT count(*) FROM lake_hours WHERE needs_recompute")" -ge 1 ] && break
	sleep 0.25
done
kill -TERM "$pid"
wait "$pid" || true
[ "$(q "SELECT region || ' ' || hour || ' ' || late_rows FROM lake_hours WHERE needs_recompute")" = "OC $late_hour 1" ] ||
	fail "late play not marked: $(q "SELECT region, day, hour, late_rows FROM lake_hours WHERE needs_recompute")"

dead="$(kcat -C -b "$TOPSONGS_KAFKA_BROKERS" -t "$topic-dlq" -o beginning -e -q -f '%h\n' 2>/dev/null | grep -c 'reason=' || true)"
[ "$dead" -ge 5 ] || fail "expected at least 5 dead letters with a reason, found $dead"
echo "ok: exactly once through $kills disruptions (SIGKILL mid-stream, rebalances: ${INGEST_SCENARIO:-kill}); $dead dead letters"
