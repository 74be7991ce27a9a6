#!/bin/sh
# topsongs simulate to NDJSON: the same seed and range give the same bytes,
# every line obeys the play contract, the daily shape and the duplicates
# are there, the catalog CSV matches the songs played, and bad flags fail.
set -eu
: "${TOPSONGS_BIN:?}" "${SCRATCH:?}"
PY=${PY:-python3}
cd "$SCRATCH"
fail() { echo "FAIL: $*" >&2; exit 1; }

FROM=$($PY -c 'import datetime as d; t=d.datetime.now(d.timezone.utc).replace(minute=0,second=0,microsecond=0)-d.timedelta(days=1); print(t.strftime("%Y-%m-%dT%H:%M:%SZ"))')
TO=$($PY -c 'import datetime as d,sys; t=d.datetime.strptime(sys.argv[1],"%Y-%m-%dT%H:%M:%SZ")+d.timedelta(hours=24); print(t.strftime("%Y-%m-%dT%H:%M:%SZ"))' "$FROM")

# 1. Determinism: a fixed seed and range give identical files; another seed does not.
"$TOPSONGS_BIN" simulate --seed 7 --rate 3 --from "$FROM" --to "$TO" --out a.ndjson --quiet
"$TOPSONGS_BIN" simulate --seed 7 --rate 3 --from "$FROM" --to "$TO" --out b.ndjson --quiet
"$TOPSONGS_BIN" simulate --seed 8 --rate 3 --from "$FROM" --to "$TO" --out c.ndjson --quiet
cmp -s a.ndjson b.ndjson || fail "same seed, different output"
cmp -s a.ndjson c.ndjson && fail "different seeds, same output"

# 2. The catalog, written separately, holds every song played.
"$TOPSONGS_BIN" simulate --catalog songs.csv --quiet
"$TOPSONGS_BIN" simulate --catalog - --quiet | cmp -s - songs.csv || fail "catalog differs between runs"

# 3. Contract and shape, checked by an independent reader.
$PY - "$FROM" "$TO" a.ndjson songs.csv <<'PYEOF' || fail "contract or shape check"
import csv, datetime as d, json, re, sys
frm = d.datetime.strptime(sys.argv[1], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=d.timezone.utc)
to = d.datetime.strptime(sys.argv[2], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=d.timezone.utc)
songs = {r["id"]: r for r in csv.DictReader(open(sys.argv[4], newline=""))}
assert len(songs) == 5000, len(songs)
uuid = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
ts_re = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
offsets = {"NA": -6, "SA": -3, "EU": 1, "AF": 1, "AS": 7, "OC": 10}  # rough, per region
seen, dups, n, skips = {}, 0, 0, 0
hours = [0] * 24
regions = {}
for line in open(sys.argv[3]):
    e = json.loads(line)
    n += 1
    assert uuid.match(e["event_id"]), e
    assert 1 <= len(e["user_id"]) <= 64 and 1 <= len(e["song_id"]) <= 64, e
    assert e["song_id"] in songs, e
    assert e["region"] in offsets, e
    assert ts_re.match(e["ts"]), e
    t = d.datetime.strptime(e["ts"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=d.timezone.utc)
    assert frm <= t < to, e
    assert re.match(r"^[A-Z]{2}$", e["country"]) and len(e["city"]) <= 128, e
    assert -90 <= e["lat"] <= 90 and -180 <= e["lon"] <= 180, e
    assert 1 <= len(e["device"]) <= 32, e
    assert isinstance(e["duration_ms"], int) and 0 <= e["duration_ms"] <= 3600000, e
    assert e["duration_ms"] <= int(songs[e["song_id"]]["duration_ms"]), e
    if e["event_id"] in seen:
        assert seen[e["event_id"]] == line, "a retry must repeat the play exactly"
        dups += 1
        continue
    seen[e["event_id"]] = line
    skips += e["duration_ms"] < 30000
    regions[e["region"]] = regions.get(e["region"], 0) + 1
    hours[(t.hour + offsets[e["region"]]) % 24] += 1
firsts = n - dups
print(f"events={n} duplicates={dups} skips={skips/firsts:.2f} regions={regions}")
assert abs(firsts / (3 * 86400) - 1) < 0.06, firsts       # --rate 3 for a day
assert 0.004 < dups / firsts < 0.02, dups                  # --retry-share 0.01
assert 0.10 < skips / firsts < 0.40, skips
assert regions["AS"] > regions["OC"] * 3 and regions["EU"] > regions["AF"] * 2, regions
night, evening = hours[3] + hours[4], hours[19] + hours[20]
assert evening > 3 * night, hours                          # local daily curve
top = {}
for line in seen.values():
    e = json.loads(line)
    if e["region"] == "EU":
        top[e["song_id"]] = top.get(e["song_id"], 0) + 1
counts = sorted(top.values(), reverse=True)
assert counts[0] > 5 * counts[50], counts[:5]              # skewed popularity
PYEOF

# 4. Counts, stdout and a closed pipe.
"$TOPSONGS_BIN" simulate --seed 1 --count 1000 --out - --quiet > d.ndjson
[ "$(wc -l < d.ndjson)" -eq 1000 ] || fail "--count 1000 wrote $(wc -l < d.ndjson) lines"
"$TOPSONGS_BIN" simulate --seed 1 --count 100000 --out - --quiet | head -n 5 > e.ndjson \
	|| fail "a closed pipe should end the run quietly"
[ "$(wc -l < e.ndjson)" -eq 5 ] || fail "head"
"$TOPSONGS_BIN" simulate --seed 1 --count 500 --out f.ndjson 2> totals.txt
grep -q 'generated=500 ' totals.txt || fail "totals line: $(cat totals.txt)"

# 5. --speed paces a back-fill: ten minutes at 600x take a second, not less.
start=$(date +%s%N)
"$TOPSONGS_BIN" simulate --seed 2 --from -20m --to -10m --speed 600 --out g.ndjson --quiet
ms=$((($(date +%s%N) - start) / 1000000))
[ "$ms" -ge 950 ] && [ "$ms" -lt 15000 ] || fail "--speed 600 over 10 minutes took $ms ms"
[ "$(wc -l < g.ndjson)" -gt 30000 ] || fail "--speed: $(wc -l < g.ndjson) events"

# 6. A progress line on a terminal (when script(1) can give us one).
if command -v script >/dev/null 2>&1; then
	script -qc "$TOPSONGS_BIN simulate --seed 2 --from -2h --speed 3600 --out /dev/null" \
		/dev/null > tty.txt 2>&1 || true
	grep -q "$(printf '\r')" tty.txt || fail "no progress line on a terminal"
	grep -q 'generated=' tty.txt || fail "no totals on a terminal"
fi

# 7. Usage errors exit 2 with a reason.
for args in "--rate -1" "--from yesterday" "--to -1h" "--from -1h --to -2h" "--batch 0" \
	"--rate 0 --from -1h" "--songs 0" "--speed -1" "--target http://127.0.0.1:9" \
	"--regions eu"; do
	set +e
	# shellcheck disable=SC2086
	"$TOPSONGS_BIN" simulate $args --count 1 --out /dev/null 2> err.txt
	rc=$?
	set -e
	[ "$rc" -eq 2 ] || fail "'$args' exited $rc, expected 2"
	[ -s err.txt ] || fail "'$args' printed no reason"
done
set +e
"$TOPSONGS_BIN" simulate --from -30d --target http://127.0.0.1:9 2> err.txt
rc=$?
set -e
[ "$rc" -eq 2 ] && grep -q max-age err.txt || fail "a back-fill older than the api accepts: rc $rc"
"$TOPSONGS_BIN" simulate -h | grep -q -- '--retry-share' || fail "-h"
# docs/simulator.md carries the option list as -h prints it.
"$TOPSONGS_BIN" simulate -h | sed -n '/^options:/,/^  -h, --help/p' | tail -n +2 > opts.txt
sed -n '/^## Flags/,/^## /p' "$ROOT/docs/simulator.md" | sed -n '/^```$/,/^```$/p' |
	sed '1d;$d' > doc-opts.txt
diff -u doc-opts.txt opts.txt || fail "docs/simulator.md: the Flags block differs from simulate -h"
echo "ok: simulate NDJSON"
