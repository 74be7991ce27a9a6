#!/usr/bin/env bash
# topsongs catalog load: the simulator's catalog loaded from its seed and
# from its CSV gives the same songs table; RFC 4180 quoting; a bad record
# fails the load naming its line and changes nothing; a reload updates.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/flows_lib.sh"
flows_db

"$TOPSONGS_BIN" catalog load --songs 2000 --catalog-seed 9 >"$SCRATCH/out" || fail "load from seed"
grep -q "2000 songs loaded" "$SCRATCH/out" || fail "load said: $(cat "$SCRATCH/out")"
q "SELECT song_id, title, artist, genre, duration_ms FROM songs ORDER BY 1" >"$SCRATCH/from-seed"
q "DELETE FROM songs" >/dev/null
"$TOPSONGS_BIN" simulate --catalog "$SCRATCH/cat.csv" --songs 2000 --catalog-seed 9 2>/dev/null || fail "simulate --catalog"
"$TOPSONGS_BIN" catalog load --csv "$SCRATCH/cat.csv" >/dev/null || fail "load from CSV"
q "SELECT song_id, title, artist, genre, duration_ms FROM songs ORDER BY 1" >"$SCRATCH/from-csv"
cmp -s "$SCRATCH/from-seed" "$SCRATCH/from-csv" || fail "the CSV and the seed give different songs"
[ "$(wc -l <"$SCRATCH/from-csv")" = 2000 ] || fail "not 2000 songs"

# Quoting, CRLF, a header, stdin; song x2 given twice keeps its last record.
printf 'song_id,title,artist,genre,duration_ms\r\nx1,"Hello, ""World""","Tab\there",pop,1000\r\nx2,"Two\nlines",B,rock,\r\nx2,Second,B,rock,5\r\n' |
	"$TOPSONGS_BIN" catalog load --csv - >/dev/null || fail "load from stdin"
[ "$(q "SELECT title || '|' || artist || '|' || duration_ms FROM songs WHERE song_id = 'x1'")" = "Hello, \"World\"|Tab	here|1000" ] ||
	fail "x1: $(q "SELECT * FROM songs WHERE song_id = 'x1'")"
[ "$(q "SELECT title || '|' || duration_ms FROM songs WHERE song_id = 'x2'")" = "Second|5" ] || fail "x2 not its last record"

# A bad record on line 4: the load fails, names the line, changes nothing.
before="$(q "SELECT md5(string_agg(song_id || title || artist || genre, ',' ORDER BY song_id)) FROM songs")"
printf 'song_id,title,artist,genre\nx1,New title,A,pop\nx9,T,A,pop\nx10,T,A\n' >"$SCRATCH/bad.csv"
rc=0
"$TOPSONGS_BIN" catalog load --csv "$SCRATCH/bad.csv" 2>"$SCRATCH/err" || rc=$?
[ "$rc" != 0 ] || fail "a bad CSV loaded"
grep -q "bad.csv: line 4: 3 fields" "$SCRATCH/err" || fail "error: $(cat "$SCRATCH/err")"
[ "$(q "SELECT md5(string_agg(song_id || title || artist || genre, ',' ORDER BY song_id)) FROM songs")" = "$before" ] ||
	fail "a failed load changed songs"
printf 's1,"unclosed,A,pop\n' | "$TOPSONGS_BIN" catalog load --csv - 2>"$SCRATCH/err" && fail "unclosed quote loaded"
grep -q "line 1: a quoted field is not closed" "$SCRATCH/err" || fail "error: $(cat "$SCRATCH/err")"
"$TOPSONGS_BIN" catalog load --csv "$SCRATCH/nope.csv" 2>"$SCRATCH/err" && fail "a missing file loaded"
grep -q "nope.csv" "$SCRATCH/err" || fail "error: $(cat "$SCRATCH/err")"
# Quotes and backslashes in values reach the table as they are (no SQL is built from them).
printf "q1,\"Robert'); DROP TABLE songs;--\",\"back\\\\slash\",pop\n" | "$TOPSONGS_BIN" catalog load --csv - >/dev/null || fail "load q1"
[ "$(q "SELECT title || '|' || artist FROM songs WHERE song_id = 'q1'")" = "Robert'); DROP TABLE songs;--|back\\slash" ] ||
	fail "q1: $(q "SELECT title, artist FROM songs WHERE song_id = 'q1'")"
echo "ok: catalog load from seed and CSV; bad records named by line; nothing half-loaded"
