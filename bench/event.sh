#!/bin/sh
# Event decoding benchmark (not a timed test): ROWS simulated plays (default
# 1,000,000) decoded and validated by event_parse — the canonical fast path,
# jansson for what it gives up on — and, same run, same records, by jansson
# alone (json_loadb + event_from_json), the decoder ingest and the api used
# before. Best of REPEAT passes (default 3) in CPU time; prints the ratio.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
"$ROOT/scripts/setup.sh" bench # run on its own too: what a fresh machine lacks
ROWS=${ROWS:-1000000}
REPEAT=${REPEAT:-3}
OUT=$ROOT/var/bench/event
mkdir -p "$OUT"
make -C "$ROOT" -s -j2 all
LIBS_PC="libmicrohttpd rdkafka jansson libpq libcurl libzstd zlib libcrypto"
# shellcheck disable=SC2046,SC2086
cc -std=c17 -O2 -g -pthread -I"$ROOT/src" -I"$ROOT" $(pkg-config --cflags $LIBS_PC) \
	"$ROOT/bench/event_bench.c" "$ROOT/build/libtopsongs.a" \
	$(pkg-config --libs $LIBS_PC) -lsnappy -lm -o "$OUT/event_bench"
"$ROOT/build/topsongs" simulate --seed 7 --count "$ROWS" --from -20h --to now \
	--out "$OUT/plays.ndjson" --quiet
"$OUT/event_bench" "$OUT/plays.ndjson" "$REPEAT" >"$OUT/result"
awk -v repeat="$REPEAT" '
	{ name[NR] = $1; n = $2; cpu[NR] = $3; ns[NR] = $4; bad[NR] = $5 }
	END {
		printf "\n### Event decoding (%d plays, best of %d, CPU time)\n\n", n, repeat
		print "| decoder | CPU seconds | ns per record | rejected |"
		print "|---|---:|---:|---:|"
		for (i = 1; i <= NR; i++)
			printf "| %s | %s | %s | %s |\n", name[i], cpu[i], ns[i], bad[i]
		printf "\nevent_parse is %.1fx faster than jansson alone.\n", cpu[1] / cpu[2]
	}' "$OUT/result"
