#!/bin/sh
# Every file our writer produces (every codec, dictionary on/off and falling
# back, page v1/v2, tiny and large row groups and pages) is read by pyarrow and
# by DuckDB with identical values, the expected logical types and nullability,
# and row-group statistics that match the data.
set -eu
: "${TOPSONGS_BIN:?}" "${ROOT:?}" "${SCRATCH:?}"
PY=${PY:-python3}
"$PY" "$ROOT/tests/parquet/crosscheck.py" ours "$TOPSONGS_BIN" "$SCRATCH" --rows 3000 --seed 1
"$PY" "$ROOT/tests/parquet/crosscheck.py" ours "$TOPSONGS_BIN" "$SCRATCH/b" --rows 200 --seed 2
