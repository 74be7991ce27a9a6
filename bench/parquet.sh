#!/bin/sh
# Parquet benchmark (not a timed test): writes ROWS play events (default 10
# million, the raw lake schema) with ZSTD and SNAPPY through our codec, then —
# same run, same rows, loaded from our file — through pyarrow and DuckDB
# (single-threaded and default threads), and counts plays per song_id with
# each. Prints a summary and rewrites the "Parquet" section of
# docs/benchmarks.md.
#
#   bench/parquet.sh [ROWS]        work files under var/bench/parquet
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ROWS=${1:-10000000}
OUT=${PARQUET_BENCH_DIR:-$ROOT/var/bench/parquet}
mkdir -p "$OUT"
# The driver is built from the codec's own sources (base + parquet), with the
# flags of the release build, so the rest of the tree does not matter here.
# shellcheck disable=SC2046
cc -std=c17 -O2 -g -pthread -I"$ROOT/src" -I"$ROOT" -DTOPSONGS_VERSION='"bench"' \
	"$ROOT/bench/parquet_bench.c" "$ROOT"/src/parquet/*.c "$ROOT"/src/base/*.c \
	$(pkg-config --libs libzstd zlib) -lsnappy -lm -o "$OUT/parquet_bench"
PY=$("$ROOT/scripts/pyenv.sh")
for codec in zstd snappy; do
	rm -f "$OUT/ours-$codec.parquet"
	"$OUT/parquet_bench" write "$OUT/ours-$codec.parquet" "$ROWS" "$codec" \
		>"$OUT/ours-write-$codec.json"
done
"$PY" "$ROOT/bench/parquet_bench.py" "$OUT" --md "$ROOT/docs/benchmarks.md"
