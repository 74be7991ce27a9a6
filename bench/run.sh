#!/usr/bin/env bash
# `make bench`: every benchmark, each with its same-run comparison. Each
# script installs what it needs itself (scripts/setup.sh bench).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
for b in "$here"/api.sh "$here"/overload.sh "$here"/read.sh "$here"/ingest.sh "$here"/event.sh \
	"$here"/parquet.sh "$here"/flows.sh "$here"/freshness.sh; do
	[ -x "$b" ] && "$b"
done
