#!/bin/sh
# topsongs parquet inspect/cat/write from the command line: a JSON-lines round
# trip, projection and limits, inspect's report, and bad input (not Parquet,
# truncated, corrupt, missing, bad flags) failing with the file named and the
# right exit status, never a crash.
set -eu
: "${TOPSONGS_BIN:?}" "${SCRATCH:?}"
cd "$SCRATCH"
fail() { echo "FAIL: $*" >&2; exit 1; }
T=$TOPSONGS_BIN

cat >in.jsonl <<'JSON'
{"id":1,"song":"s1","ts":"2026-11-25T13:00:00.123456Z","d":"2026-11-25","ok":true,"x":1.5}
{"id":2,"song":null,"ts":"2026-11-25T13:00:01.000001Z","d":"1970-01-01","ok":false,"x":-0.0}
{"id":3,"song":"caf\u00e9 \"q\"","ts":"1969-12-31T23:59:59.999999Z","d":"1969-12-31","ok":null,"x":null}
JSON
SCHEMA='id:int64,song:string?,ts:timestamp_us,d:date,ok:bool?,x:double?'
"$T" parquet write rt.parquet --schema "$SCHEMA" --codec snappy --row-group-rows 2 <in.jsonl
"$T" parquet cat rt.parquet >out.jsonl
"$T" parquet write rt2.parquet --schema "$SCHEMA" --codec gzip --page-v2 --no-dictionary <out.jsonl
"$T" parquet cat rt2.parquet | cmp -s - out.jsonl || fail "cat | write | cat is not stable"
grep -q '"song":"caf' out.jsonl || fail "string lost: $(cat out.jsonl)"
grep -q '"ts":"1969-12-31T23:59:59.999999Z"' out.jsonl || fail "timestamp before 1970: $(cat out.jsonl)"
grep -q '"x":-0.0' out.jsonl || fail "negative zero lost"
[ "$("$T" parquet cat rt.parquet --columns song,id --limit 1)" = '{"song":"s1","id":1}' ] ||
	fail "projection/limit"

"$T" parquet inspect rt.parquet >inspect.txt
for want in "rows: 3" "row groups: 2" "song" "STRING" "SNAPPY" "RLE_DICTIONARY" "nulls" "min 1"; do
	grep -q "$want" inspect.txt || fail "inspect lacks '$want'"
done

expect_fail() { # STATUS WORD ARGS...: exits STATUS, stderr mentions WORD
	status=$1 word=$2
	shift 2
	set +e
	"$T" "$@" >/dev/null 2>err.txt
	rc=$?
	set -e
	[ "$rc" = "$status" ] || fail "$*: exit $rc, expected $status ($(cat err.txt))"
	grep -q -- "$word" err.txt || fail "$*: message lacks '$word': $(cat err.txt)"
}
printf 'hello, not parquet at all' >junk.parquet
expect_fail 1 junk.parquet parquet cat junk.parquet
head -c 100 rt.parquet >trunc.parquet
expect_fail 1 trunc.parquet parquet inspect trunc.parquet
# Corrupt the middle of every column chunk: errors name the file, never crash.
size=$(wc -c <rt.parquet)
for off in 10 30 60 90 120; do
	[ "$off" -lt "$size" ] || continue
	cp rt.parquet bad.parquet
	printf '\377\377\377\377' | dd of=bad.parquet bs=1 seek="$off" conv=notrunc 2>/dev/null
	set +e
	"$T" parquet cat bad.parquet >/dev/null 2>err.txt
	rc=$?
	set -e
	[ "$rc" -le 1 ] || fail "corrupt byte at $off: exit $rc"
	[ "$rc" = 0 ] || grep -q bad.parquet err.txt || fail "corrupt at $off: $(cat err.txt)"
done
expect_fail 1 missing.parquet parquet cat missing.parquet
expect_fail 2 "no column" parquet cat rt.parquet --columns nosuch
expect_fail 2 "unknown action" parquet frobnicate rt.parquet
expect_fail 2 "schema" parquet write w.parquet
echo '{"id":"x"}' >badrow.jsonl
set +e
"$T" parquet write w.parquet --schema id:int64 <badrow.jsonl 2>err.txt
rc=$?
set -e
[ "$rc" = 1 ] && grep -q "line 1" err.txt || fail "bad row: exit $rc, $(cat err.txt)"
[ ! -e w.parquet ] || fail "a failed write left w.parquet behind"
ls | grep -q tmp && fail "a temporary file was left: $(ls)"
"$T" parquet -h | grep -q "inspect" || fail "-h"
echo "ok"
