#!/usr/bin/env bash
# Chart facts against hand-computed answers: a small set of plays over five
# hours of one day (and one play the day before) in EU, one play in NA; the
# expected ranks, previous ranks, movements, peaks, periods on chart and
# NEW / RE-ENTRY below were worked out by hand (see the comments).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/flows_lib.sh"

flows_lake
"$TOPSONGS_BIN" catalog load --songs 30 --catalog-seed 1 >/dev/null || fail "catalog load"
day="$(date -u -d '3 days ago' +%F)"
prev="$(date -u -d '4 days ago' +%F)"
# plays: DAY HOUR REGION SONG COUNT
python3 - "$SCRATCH/plays.ndjson" "$day" "$prev" <<'PY'
import json, sys
out, day, prev = sys.argv[1], sys.argv[2], sys.argv[3]
plays = [
    # H10: s1 5, s2 4, s3 3, then s10..s21 once each: ranks 4-10 go to
    # s10..s16 (song_id order breaks the tie), s17..s21 do not chart.
    (day, 10, "EU", 1, 5), (day, 10, "EU", 2, 4), (day, 10, "EU", 3, 3),
] + [(day, 10, "EU", s, 1) for s in range(10, 22)] + [
    # H11: s2 6, s1 5, s4 2, s17 1 (s17 played before but never charted: NEW)
    (day, 11, "EU", 2, 6), (day, 11, "EU", 1, 5), (day, 11, "EU", 4, 2), (day, 11, "EU", 17, 1),
    # H12: s3 7 (back after a gap: RE-ENTRY), s1 2 and s4 2 tie (s1 first); NA s2 1
    (day, 12, "EU", 3, 7), (day, 12, "EU", 1, 2), (day, 12, "EU", 4, 2), (day, 12, "NA", 2, 1),
    # H13: nothing. H14: s2 1 (previous hour had no chart: RE-ENTRY)
    (day, 14, "EU", 2, 1),
    # the day before: s2 once
    (prev, 9, "EU", 2, 1),
]
n = 0
with open(out, "w") as f:
    for d, h, region, song, count in plays:
        for _ in range(count):
            n += 1
            f.write(json.dumps({"event_id": "00000000-0000-4000-8000-%012d" % n,
                                "user_id": "u%d" % n, "song_id": "s%06d" % song, "region": region,
                                "ts": "%sT%02d:%02d:00.000Z" % (d, h, n % 60)}) + "\n")
PY
to_kafka "$topic" "$SCRATCH/plays.ndjson"
ingest_until "$(wc -l <"$SCRATCH/plays.ndjson")" --kafka-topic "$topic" --ingest-group "g-$topic" \
	--ingest-dlq-topic "$topic-dlq" --lake-url "$lake" --ingest-flush-ms 200
run_flow enrich >"$SCRATCH/flows.log" 2>&1 || fail "enrich: $(tail -3 "$SCRATCH/flows.log")"
run_flow aggregate >>"$SCRATCH/flows.log" 2>&1 || fail "aggregate: $(tail -3 "$SCRATCH/flows.log")"

# region hour rank song plays previous_rank movement peak_rank periods entry
# (s2's play at 09:00 the day before is a chart too: at 10:00 s2 re-enters.)
expect_hourly="$(sed "s/PREV/$prev/; s/DAY/$day/" <<'T'
EU|DAY 10|1|s000001|5|||1|1|NEW
EU|DAY 10|2|s000002|4|||1|2|RE-ENTRY
EU|DAY 10|3|s000003|3|||3|1|NEW
EU|DAY 10|4|s000010|1|||4|1|NEW
EU|DAY 10|10|s000016|1|||10|1|NEW
EU|DAY 11|1|s000002|6|2|1|1|3|
EU|DAY 11|2|s000001|5|1|-1|1|2|
EU|DAY 11|3|s000004|2|||3|1|NEW
EU|DAY 11|4|s000017|1|||4|1|NEW
EU|DAY 12|1|s000003|7|||1|2|RE-ENTRY
EU|DAY 12|2|s000001|2|2|0|1|3|
EU|DAY 12|3|s000004|2|3|0|3|2|
EU|DAY 14|1|s000002|1|||1|4|RE-ENTRY
ALL|DAY 12|4|s000002|1|1|-3|1|4|
ALL|DAY 14|1|s000002|1|||1|5|RE-ENTRY
EU|PREV 09|1|s000002|1|||1|1|NEW
NA|DAY 12|1|s000002|1|||1|1|NEW
T
)"
got_hourly="$(q "SELECT region, to_char(hour_start AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24'), rank, song_id, plays, previous_rank, movement, peak_rank, periods_on_chart, entry FROM top_songs_hourly")"
while IFS= read -r row; do
	grep -qxF "$row" <<<"$got_hourly" ||
		fail "hourly: expected $row, have: $(grep -F "$(cut -d'|' -f1-3 <<<"$row")|" <<<"$got_hourly")"
done <<<"$expect_hourly"
# Nothing else charted in EU (1 + 10 + 4 + 3 + 1 rows), and s17 not at H10.
[ "$(grep -c '^EU|' <<<"$got_hourly")" = 19 ] || fail "EU has $(grep -c '^EU|' <<<"$got_hourly") hourly rows, expected 19"
grep -q "^EU|$day 10|.*|s000017|" <<<"$got_hourly" && fail "s000017 charted at 10:00 (rank 15)"

# Daily, EU: s1 12, s2 11, s3 10, s4 4, s17 2, then s10..s14 (1 each); the
# day before: s2 alone.
expect_daily="$(sed "s/PREV/$prev/; s/DAY/$day/" <<'T'
EU|PREV|1|s000002|1|||1|1|NEW
EU|DAY|1|s000001|12|||1|1|NEW
EU|DAY|2|s000002|11|1|-1|1|2|
EU|DAY|3|s000003|10|||3|1|NEW
EU|DAY|4|s000004|4|||4|1|NEW
EU|DAY|5|s000017|2|||5|1|NEW
EU|DAY|10|s000014|1|||10|1|NEW
ALL|DAY|2|s000002|12|1|-1|1|2|
T
)"
got_daily="$(q "SELECT region, day, rank, song_id, plays, previous_rank, movement, peak_rank, periods_on_chart, entry FROM top_songs_daily")"
while IFS= read -r row; do
	grep -qxF "$row" <<<"$got_daily" ||
		fail "daily: expected $row, have: $(grep -F "$(cut -d'|' -f1-3 <<<"$row")|" <<<"$got_daily")"
done <<<"$expect_daily"
# is_final follows the lake: an hour is final once lake_hours closed it (the
# slowest Kafka partition's watermark decides), the last one (14:00) is open.
[ "$(q "SELECT count(*) FROM top_songs_hourly t WHERE region = 'EU' AND is_final <> EXISTS (SELECT 1 FROM lake_hours l WHERE l.region = 'EU' AND l.day + make_interval(hours => l.hour) = t.hour_start AT TIME ZONE 'UTC' AND l.closed_at IS NOT NULL)")" = 0 ] ||
	fail "is_final disagrees with lake_hours: $(q "SELECT DISTINCT hour_start, is_final FROM top_songs_hourly WHERE region = 'EU' ORDER BY 1")"
[ "$(q "SELECT DISTINCT is_final FROM top_songs_hourly WHERE region = 'EU' AND hour_start = '$day 14:00+00'")" = f ] ||
	fail "the last hour is final"
[ "$(q "SELECT DISTINCT is_final FROM top_songs_daily WHERE day = '$day'")" = f ] || fail "the day is final"

# Time moves on: plays a day later on every partition close every hour of
# the day; the next aggregate makes them and the day final, without new
# plays of their own.
next="$(date -u -d '2 days ago' +%F)"
parts="$(kcat -L -b "$TOPSONGS_KAFKA_BROKERS" -t "$topic" | grep -c 'partition [0-9]*,')"
for h in 12 14; do
	for ((p = 0; p < parts; p++)); do
		printf '{"event_id":"00000000-0000-4000-a000-%06d%06d","user_id":"x","song_id":"s000001","region":"AF","ts":"%sT%s:00:00.000Z"}\n' \
			"$h" "$p" "$next" "$h" | kcat -P -b "$TOPSONGS_KAFKA_BROKERS" -t "$topic" -p "$p" || fail "produce"
	done
done
ingest_until "$(($(wc -l <"$SCRATCH/plays.ndjson") + 2 * parts))" --kafka-topic "$topic" --ingest-group "g-$topic" \
	--ingest-dlq-topic "$topic-dlq" --lake-url "$lake" --ingest-flush-ms 200
run_flow enrich >>"$SCRATCH/flows.log" 2>&1 || fail "enrich: $(tail -3 "$SCRATCH/flows.log")"
run_flow aggregate >>"$SCRATCH/flows.log" 2>&1 || fail "aggregate: $(tail -3 "$SCRATCH/flows.log")"
[ "$(q "SELECT DISTINCT is_final FROM top_songs_hourly WHERE hour_start < '$next'")" = t ] ||
	fail "closed hours not final: $(q "SELECT DISTINCT region, hour_start, is_final FROM top_songs_hourly ORDER BY 2")"
[ "$(q "SELECT DISTINCT is_final FROM top_songs_daily WHERE day <= '$day'")" = t ] || fail "the day is not final"
[ "$(q "SELECT DISTINCT is_final FROM top_songs_daily WHERE day = '$next'")" = f ] || fail "the newest day is final"
check_flows "$lake"
echo "ok: chart facts as computed by hand"
