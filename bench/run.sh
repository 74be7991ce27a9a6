#!/usr/bin/env bash
# `make bench`: every benchmark, each with its same-run comparison.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
"$here/../scripts/setup.sh" bench
for b in "$here"/api.sh "$here"/overload.sh "$here"/read.sh "$here"/ingest.sh "$here"/event.sh \
	"$here"/parquet.sh "$here"/flows.sh "$here"/freshness.sh; do
	[ -x "$b" ] && "$b"
done
