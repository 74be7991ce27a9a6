#!/usr/bin/env bash
# The configuration reference and .env.example are generated from the
# configuration table; they must match what the binary says now.
. "$(dirname "$0")/lib.sh"
OUT_DIR="$SCRATCH/gen" TOPSONGS_BIN="$TOPSONGS_BIN" "$ROOT/scripts/gen-docs.sh"
diff -u "$ROOT/docs/configuration.md" "$SCRATCH/gen/docs/configuration.md" ||
	fail "docs/configuration.md is stale: run make docs"
diff -u "$ROOT/.env.example" "$SCRATCH/gen/.env.example" || fail ".env.example is stale: run make docs"
# .env.example, uncommented, must be accepted as it is.
sed 's/^#TOPSONGS_/TOPSONGS_/' "$ROOT/.env.example" >"$SCRATCH/env"
env -i PATH="$PATH" TOPSONGS_ENV_FILE="$SCRATCH/env" "$TOPSONGS_BIN" config >/dev/null ||
	fail ".env.example with every line uncommented is refused"
echo "ok: generated docs are current"
