#!/usr/bin/env bash
# A batch with more files than publish takes under one set of hour locks
# (64, ingest_commit.c: each hour's lock is an entry in PostgreSQL's shared
# lock table): plays spread over 24 hours of 6 regions, so that each
# partition's one batch holds well over 64 files. Publish goes through it
# in chunks; every file must end up published and in raw/, every play in
# the lake once.
. "$(dirname "$0")/lib.sh"
: "${PY:?}"

topic="$(new_topic)"
lake="$SCRATCH/lake"
n=3000
# A database of its own: 144 lake hours of today and yesterday would crowd
# out the hours other tests look for in the shared one (/api/pipeline
# lists the newest).
db="t$$_$RANDOM"
psql -X -q "$TOPSONGS_PG_URL" -c "CREATE DATABASE $db" || fail "cannot create database $db"
export TOPSONGS_PG_URL="${TOPSONGS_PG_URL%/*}/$db"

python3 - "$n" >"$SCRATCH/records.tsv" <<'PY'
import datetime, json, random, sys, uuid
n = int(sys.argv[1])
rnd = random.Random(13)
now = datetime.datetime.now(datetime.timezone.utc)
for i in range(n):
    ts = now - datetime.timedelta(hours=i % 24, seconds=rnd.randint(0, 3000))
    ev = {"event_id": str(uuid.UUID(int=rnd.getrandbits(128), version=4)),
          "user_id": "u%d" % rnd.randint(1, 500), "song_id": "s%d" % rnd.randint(1, 30),
          "region": ["NA", "SA", "EU", "AF", "AS", "OC"][i // 24 % 6],
          "ts": ts.isoformat(timespec="milliseconds")}
    print(ev["user_id"] + "\t" + json.dumps(ev))
PY
kcat -P -b "$TOPSONGS_KAFKA_BROKERS" -t "$topic" -K $'\t' <"$SCRATCH/records.tsv" ||
	fail "cannot produce the test records"

# One batch per partition: nothing commits before the partition is quiet.
"$TOPSONGS_BIN" ingest --kafka-topic "$topic" --ingest-group "g-$topic" \
	--ingest-dlq-topic "$topic-dlq" --lake-url "$lake" --ingest-flush-ms 600000 \
	--ingest-max-open-files 1000 --ingest-compact-interval-s 0 \
	--ingest-metrics-listen 127.0.0.1:0 >"$SCRATCH/ingest.log" 2>&1 &
pid=$!
pids_to_stop+=("$pid")
for _ in $(seq 1 120); do
	[ "$(topic_rows "$topic")" -ge "$n" ] && break
	kill -0 "$pid" 2>/dev/null || fail "ingest died: $(tail -3 "$SCRATCH/ingest.log")"
	sleep 0.5
done
[ "$(topic_rows "$topic")" = "$n" ] || fail "$(topic_rows "$topic") rows committed for $n plays"
kill -TERM "$pid"
wait "$pid" || fail "ingest exited $? on SIGTERM: $(tail -5 "$SCRATCH/ingest.log")"

q() { psql -X -q -tA "$TOPSONGS_PG_URL" -c "$1"; }
widest="$(q "SELECT max(c) FROM (SELECT count(*) AS c FROM ingest_files WHERE topic = '$topic' GROUP BY kafka_partition, first_offset) b")"
[ "$widest" -gt 64 ] || fail "the widest batch has $widest files: not more than one chunk"
unpublished="$(q "SELECT count(*) FROM ingest_files WHERE topic = '$topic' AND NOT published")"
[ "$unpublished" = 0 ] || fail "$unpublished committed files not marked published"
files="$(q "SELECT count(*) FROM ingest_files WHERE topic = '$topic'")"
on_disk="$(find "$lake/raw" -name '*.parquet' | wc -l)"
[ "$on_disk" = "$files" ] || fail "$on_disk files under raw/ for $files committed"
"$PY" - "$lake" "$SCRATCH/records.tsv" <<'PY' || fail "the lake is not the plays once each"
import duckdb, json, sys
lake, records = sys.argv[1], sys.argv[2]
sent = sorted(json.loads(line.split("\t", 1)[1])["event_id"] for line in open(records))
got = [r[0] for r in duckdb.sql(f"""select event_id from read_parquet('{lake}/raw/**/*.parquet')
    order by event_id""").fetchall()]
assert got == sent, f"{len(got)} rows in the lake for {len(sent)} plays, {len(set(got))} distinct"
PY
echo "ok: batches of up to $widest files published in chunks; $files files, $n plays once each"
