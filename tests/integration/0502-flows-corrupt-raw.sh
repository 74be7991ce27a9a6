#!/usr/bin/env bash
# A corrupt raw file makes enrich fail with an error naming the file; no
# chart changes and nothing is published; once the file is repaired (put
# back from a copy) the next run picks up where it stopped. The same for a
# corrupt enriched file and aggregate.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/flows_lib.sh"

flows_lake
args=(--kafka-topic "$topic" --ingest-group "g-$topic" --ingest-dlq-topic "$topic-dlq"
	--lake-url "$lake" --ingest-flush-ms 300 --ingest-max-rows 400 --ingest-compact-interval-s 0)

"$TOPSONGS_BIN" catalog load --songs 50 --catalog-seed 2 >/dev/null || fail "catalog load"
"$TOPSONGS_BIN" simulate --out "$SCRATCH/a.ndjson" --from -3h --to -2h --songs 50 --catalog-seed 2 \
	--rate 0.5 --seed 1 --quiet || fail "simulate"
"$TOPSONGS_BIN" simulate --out "$SCRATCH/b.ndjson" --from -2h --songs 50 --catalog-seed 2 \
	--rate 0.5 --seed 2 --quiet || fail "simulate"
to_kafka "$topic" "$SCRATCH/a.ndjson"
ingest_until "$(wc -l <"$SCRATCH/a.ndjson")" "${args[@]}"
run_flow enrich >"$SCRATCH/flows.log" 2>&1 || fail "enrich: $(tail -3 "$SCRATCH/flows.log")"
run_flow aggregate >>"$SCRATCH/flows.log" 2>&1 || fail "aggregate: $(tail -3 "$SCRATCH/flows.log")"
dump_tables "$SCRATCH/before"
"$TOPSONGS_BIN" store ls enriched/ >"$SCRATCH/enriched.before"

to_kafka "$topic" "$SCRATCH/b.ndjson"
ingest_until "$(($(wc -l <"$SCRATCH/a.ndjson") + $(wc -l <"$SCRATCH/b.ndjson")))" "${args[@]}"
bad="$(q "SELECT path FROM ingest_files f WHERE NOT EXISTS (SELECT 1 FROM flow_enrich_inputs i WHERE i.raw_path = f.path) ORDER BY day, hour, region LIMIT 1")"
[ -n "$bad" ] && [ -f "$lake/$bad" ] || fail "no pending raw file to corrupt"
cp "$lake/$bad" "$SCRATCH/good.parquet"
for how in truncate garbage; do
	if [ "$how" = truncate ]; then
		head -c 200 "$SCRATCH/good.parquet" >"$lake/$bad"
	else # the footer intact, the pages overwritten
		python3 - "$SCRATCH/good.parquet" "$lake/$bad" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
p = sys.argv[2]
for i in range(4, len(b) // 2):
    b[i] = (b[i] * 7 + 13) & 0xFF
open(p, "wb").write(bytes(b))
PY
	fi
	rc=0
	run_flow enrich >"$SCRATCH/bad.log" 2>&1 || rc=$?
	[ "$rc" = 1 ] || fail "enrich over a $how raw file exited $rc: $(cat "$SCRATCH/bad.log")"
	grep -q "$bad" "$SCRATCH/bad.log" || fail "the error does not name $bad: $(cat "$SCRATCH/bad.log")"
	echo "$how: $(grep -m1 "$bad" "$SCRATCH/bad.log")"
	run_flow aggregate >>"$SCRATCH/flows.log" 2>&1 || fail "aggregate: $(tail -3 "$SCRATCH/flows.log")"
	dump_tables "$SCRATCH/after"
	for t in plays_hourly top_songs_hourly top_songs_daily; do
		cmp -s <(sort "$SCRATCH/before/$t.csv") <(sort "$SCRATCH/after/$t.csv") ||
			fail "$t changed after a failed run over a $how file"
	done
	no_staging "$lake"
done

cp "$SCRATCH/good.parquet" "$lake/$bad"
run_flow enrich >>"$SCRATCH/flows.log" 2>&1 || fail "enrich: $(tail -3 "$SCRATCH/flows.log")"

# A corrupt enriched file: aggregate fails naming it, counts nothing of its
# batch; repaired, the next run counts everything once.
ebad="$(q "SELECT path FROM flow_enriched_files WHERE NOT aggregated ORDER BY day DESC, hour DESC LIMIT 1")"
[ -n "$ebad" ] || fail "no enriched file waiting for aggregate"
cp "$lake/$ebad" "$SCRATCH/egood.parquet"
head -c 100 "$SCRATCH/egood.parquet" >"$lake/$ebad"
rc=0
run_flow aggregate >"$SCRATCH/bad.log" 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "aggregate over a corrupt enriched file exited $rc: $(cat "$SCRATCH/bad.log")"
grep -q "$ebad" "$SCRATCH/bad.log" || fail "the error does not name $ebad: $(cat "$SCRATCH/bad.log")"
echo "enriched: $(grep -m1 "$ebad" "$SCRATCH/bad.log")"
dump_tables "$SCRATCH/after"
for t in plays_hourly top_songs_hourly top_songs_daily; do
	cmp -s <(sort "$SCRATCH/before/$t.csv") <(sort "$SCRATCH/after/$t.csv") ||
		fail "$t changed after a failed aggregate"
done
cp "$SCRATCH/egood.parquet" "$lake/$ebad"
run_flow aggregate >>"$SCRATCH/flows.log" 2>&1 || fail "aggregate: $(tail -3 "$SCRATCH/flows.log")"
check_flows "$lake"
echo "ok: corrupt raw and enriched files fail the run, name the file and change no chart"
