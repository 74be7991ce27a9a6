#!/bin/sh
# Parquet benchmark (not a timed test): writes ROWS play events (default 10
# million) in the raw lake schema (ingest_raw_schema()) with ZSTD and SNAPPY
# through our codec, then — same run, same rows, loaded from our file —
# through pyarrow and DuckDB, and counts plays per song_id with each. Prints
# a summary and, for the full 10 million rows, rewrites the "Parquet" section
# of docs/benchmarks.md.
#
#   bench/parquet.sh [ROWS]        work files under var/bench/parquet
#   REPEAT=3 bench/parquet.sh      best of 3 runs for every engine (default 3)
#
# Like for like (docs/benchmarks.md): one thread for the headline rows (our
# writer inline, PARQUET_BENCH_THREADS=0; pyarrow's writer has no threads),
# the same row-group size for every engine (ROW_GROUP rows, pyarrow's
# default), dictionary encoding on, every file in the same folder, each
# engine's previous file removed before it writes, with and without fsync.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
"$ROOT/scripts/setup.sh" bench # run on its own too: what a fresh machine lacks
ROWS=${1:-10000000}
OUT=${PARQUET_BENCH_DIR:-$ROOT/var/bench/parquet}
REPEAT=${REPEAT:-3}
ROW_GROUP=${ROW_GROUP:-1048576}
mkdir -p "$OUT"
# The driver links against the library the product is built from (the
# release flags of the Makefile), so it writes the lake's own schema.
make -C "$ROOT" -s -j2 build/libtopsongs.a
LIBS_PC="libmicrohttpd rdkafka jansson libpq libcurl libzstd zlib libcrypto"
# shellcheck disable=SC2046,SC2086
cc -std=c17 -O2 -g -pthread -I"$ROOT/src" -I"$ROOT" $(pkg-config --cflags $LIBS_PC) \
	"$ROOT/bench/parquet_bench.c" "$ROOT/build/libtopsongs.a" \
	$(pkg-config --libs $LIBS_PC) -lsnappy -lm -o "$OUT/parquet_bench"
PY=$("$ROOT/scripts/pyenv.sh")
export PARQUET_BENCH_ROW_GROUP="$ROW_GROUP"

# ours CODEC NAME THREADS SYNC: one run, appended to NAME's runs.
ours() {
	rm -f "$OUT/ours-$1-$2.parquet"
	if [ "$4" = 1 ]; then
		PARQUET_BENCH_THREADS=$3 "$OUT/parquet_bench" write \
			"$OUT/ours-$1-$2.parquet" "$ROWS" "$1" >>"$OUT/ours-$1-$2.runs"
	else
		PARQUET_BENCH_THREADS=$3 PARQUET_BENCH_NO_SYNC=1 "$OUT/parquet_bench" write \
			"$OUT/ours-$1-$2.parquet" "$ROWS" "$1" >>"$OUT/ours-$1-$2.runs"
	fi
}

for codec in zstd snappy; do
	for v in 1t 1t-fsync 2t-fsync; do : >"$OUT/ours-$codec-$v.runs"; done
	# Best of REPEAT for each variant, the variants interleaved so that a
	# noisy minute on the shared machine does not hit one of them only.
	for _ in $(seq "$REPEAT"); do
		ours "$codec" 1t 0 0
		ours "$codec" 1t-fsync 0 1
		ours "$codec" 2t-fsync 1 1
	done
	for v in 1t 1t-fsync 2t-fsync; do
		sort -t: -k4 -n "$OUT/ours-$codec-$v.runs" | head -1 >"$OUT/ours-$codec-$v.json"
	done
	# Everyone else reads the rows from the single-thread file.
	mv "$OUT/ours-$codec-1t.parquet" "$OUT/ours-$codec.parquet"
	rm -f "$OUT/ours-$codec-1t-fsync.parquet" "$OUT/ours-$codec-2t-fsync.parquet"
done
# Only a full-size run rewrites the published figures.
MD=""
[ "$ROWS" = 10000000 ] && MD="--md $ROOT/docs/benchmarks.md"
# shellcheck disable=SC2086
"$PY" "$ROOT/bench/parquet_bench.py" "$OUT" --repeat "$REPEAT" --row-group "$ROW_GROUP" $MD
