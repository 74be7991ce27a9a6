#!/usr/bin/env bash
# Posted plays are exactly the records consumed back from the topic: same
# count, key = user_id, value = the canonical JSON of what was posted.
. "$(dirname "$0")/lib.sh"

topic="$(new_topic)"
API_PORT="$(free_port)"
start_api "$API_PORT" --kafka-topic "$topic"
wait_ready "$API_PORT"

make_events 300 7 >"$SCRATCH/all.ndjson"
head -n 60 "$SCRATCH/all.ndjson" >"$SCRATCH/single.ndjson"
sed -n '61,180p' "$SCRATCH/all.ndjson" >"$SCRATCH/batch.ndjson"
sed -n '181,300p' "$SCRATCH/all.ndjson" | python3 -c 'import json,sys; print(json.dumps([json.loads(l) for l in sys.stdin]))' >"$SCRATCH/batch.json"

# One at a time.
n=0
while IFS= read -r line; do
	printf '%s' "$line" >"$SCRATCH/one.json"
	code="$(post /play application/json "$SCRATCH/one.json")"
	[ "$code" = 202 ] || fail "POST /play answered $code: $(cat "$SCRATCH/body")"
	n=$((n + 1))
done <"$SCRATCH/single.ndjson"

# NDJSON batch with two invalid lines mixed in: 207, those two listed.
{ sed -n '1,50p' "$SCRATCH/batch.ndjson"; echo '{"event_id":"nope"}'; echo 'not json'; sed -n '51,120p' "$SCRATCH/batch.ndjson"; } >"$SCRATCH/mixed.ndjson"
code="$(post /plays application/x-ndjson "$SCRATCH/mixed.ndjson")"
[ "$code" = 207 ] || fail "mixed batch answered $code"
python3 - "$SCRATCH/body" <<'PY' || fail "mixed batch body: $(cat "$SCRATCH/body")"
import json, sys
b = json.load(open(sys.argv[1]))
assert b["accepted"] == 120 and b["rejected"] == 2, b
assert [e["index"] for e in b["errors"]] == [50, 51], b
assert b["errors"][0]["field"] == "event_id" and b["errors"][1]["rule"] == "must be valid JSON", b
PY

# JSON array batch: all accepted.
code="$(post /plays application/json "$SCRATCH/batch.json")"
[ "$code" = 202 ] || fail "array batch answered $code: $(cat "$SCRATCH/body")"
grep -q '"accepted":120' "$SCRATCH/body" || fail "array batch body: $(cat "$SCRATCH/body")"

# Everything accepted is in the topic, once, with the right key and value.
consume_until "$topic" 300
python3 - "$SCRATCH/all.ndjson" "$SCRATCH/records.tsv" <<'PY'
import json, sys, datetime
posted = [json.loads(l) for l in open(sys.argv[1])]
records = [l.rstrip("\n").split("\t", 1) for l in open(sys.argv[2]) if l.strip()]
assert len(records) == len(posted), f"{len(records)} records for {len(posted)} plays"
by_id = {}
for key, value in records:
    v = json.loads(value)
    assert key == v["user_id"], (key, v)
    assert v["event_id"] not in by_id, "duplicate " + v["event_id"]
    by_id[v["event_id"]] = v
for p in posted:
    v = by_id.pop(p["event_id"])
    for f in ("user_id", "song_id", "region", "country", "city", "lat", "lon", "device", "duration_ms"):
        assert v.get(f) == p.get(f), (f, v, p)
    a = datetime.datetime.fromisoformat(p["ts"])
    b = datetime.datetime.fromisoformat(v["ts"].replace("Z", "+00:00"))
    assert a == b and v["ts"].endswith("Z"), (p["ts"], v["ts"])
    assert list(v)[:5] == ["event_id", "user_id", "song_id", "region", "ts"], list(v)
assert not by_id
print("ok:", len(records), "records match")
PY

# Plays already in canonical form (as the simulator writes them) reach
# Kafka byte for byte, whether the api sends them as they came or writes
# them anew; a canonical play with an upper-case event_id must be written
# anew, in lower case (sent as it came, it would fail here).
make_events 40 8 | python3 -c '
import datetime, json, sys
for i, l in enumerate(sys.stdin):
    ev = json.loads(l)
    ts = datetime.datetime.fromisoformat(ev["ts"]).astimezone(datetime.timezone.utc)
    ev["ts"] = ts.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (ts.microsecond // 1000)
    if i == 0:
        ev["event_id"] = ev["event_id"].upper()
    print(json.dumps(ev, ensure_ascii=False, separators=(",", ":")))
' >"$SCRATCH/canon.ndjson"
code="$(post /plays application/x-ndjson "$SCRATCH/canon.ndjson")"
[ "$code" = 202 ] || fail "canonical batch answered $code: $(cat "$SCRATCH/body")"
consume_until "$topic" 340
python3 - "$SCRATCH/canon.ndjson" "$SCRATCH/records.tsv" <<'PY'
import json, sys
lines = [l.rstrip("\n") for l in open(sys.argv[1], encoding="utf-8")]
values = {}
for l in open(sys.argv[2], encoding="utf-8"):
    if l.strip():
        value = l.rstrip("\n").split("\t", 1)[1]
        values[json.loads(value)["event_id"]] = value
upper = lines[0]
want_upper = upper.replace(json.loads(upper)["event_id"], json.loads(upper)["event_id"].lower())
assert values[json.loads(want_upper)["event_id"]] == want_upper, values.get(json.loads(want_upper)["event_id"])
for l in lines[1:]:
    assert values[json.loads(l)["event_id"]] == l, (values.get(json.loads(l)["event_id"]), l)
print("ok:", len(lines) - 1, "canonical plays byte for byte, one rewritten in lower case")
PY
