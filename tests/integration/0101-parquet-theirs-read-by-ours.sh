#!/bin/sh
# Files written by pyarrow (dictionary on/off, data page v1/v2, every codec,
# small and large row groups, DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY,
# DELTA_BYTE_ARRAY, BYTE_STREAM_SPLIT) and by DuckDB (every codec, format v1
# and v2) are read by `topsongs parquet cat` with identical values.
set -eu
: "${TOPSONGS_BIN:?}" "${ROOT:?}" "${SCRATCH:?}"
PY=${PY:-python3}
"$PY" "$ROOT/tests/parquet/crosscheck.py" theirs "$TOPSONGS_BIN" "$SCRATCH" --rows 3000 --seed 3
"$PY" "$ROOT/tests/parquet/crosscheck.py" theirs "$TOPSONGS_BIN" "$SCRATCH/b" --rows 150 --seed 4
