#!/usr/bin/env bash
# `topsongs check --lake-url s3://bucket/prefix` against a real MinIO: ok with
# the probe object gone afterwards; failed with the right reason for a missing
# bucket, a wrong secret and an unreachable endpoint (within its timeout); the
# secret never printed. Uses the MinIO of scripts/test.sh or starts its own.
. "$(dirname "$0")/lib.sh"
cd "$SCRATCH"
use_minio
export TOPSONGS_ENV_FILE=/dev/null TOPSONGS_CHECK_REQUIRED=lake TOPSONGS_CHECK_TIMEOUT_MS=2000
bucket="t0301-$$-$RANDOM"
MINIO_ROOT_USER="$TOPSONGS_S3_ACCESS_KEY" MINIO_ROOT_PASSWORD="$TOPSONGS_S3_SECRET_KEY" \
	"$ROOT/scripts/minio.sh" mb "$TS_MINIO_PORT" "$bucket"

# run NAME [flags...]: check --json into NAME.out/NAME.err, exit in $rc, time in $ms.
run() {
	local name="$1" start
	shift
	start=$(date +%s%N)
	rc=0
	"$TOPSONGS_BIN" check --json "$@" >"$name.out" 2>"$name.err" || rc=$?
	ms=$((($(date +%s%N) - start) / 1000000))
}
# lake NAME PYTHON: asserts about the lake entry `l` of NAME.out.
lake() {
	python3 - "$1.out" "$2" <<'PY' || fail "$1: $(cat "$SCRATCH/$1.out" "$SCRATCH/$1.err")"
import json, sys
j = json.load(open(sys.argv[1]))
l = [x for x in j["services"] if x["name"] == "lake"][0]
exec(sys.argv[2])
PY
}

run ok --lake-url "s3://$bucket/lake/prefix"
[ "$rc" = 0 ] || fail "check against MinIO: exit $rc: $(cat ok.out ok.err)"
lake ok '
assert l["status"] == "ok" and l["required"], l
assert l["target"] == "s3://'"$bucket"'/lake/prefix at '"$TOPSONGS_S3_ENDPOINT"'", l
assert l["reason"] == "wrote, read back and deleted an object", l
'
left="$(TOPSONGS_LAKE_URL="s3://$bucket" "$TOPSONGS_BIN" store ls)"
[ -z "$left" ] || fail "the probe left objects behind: $left"
# The table form names the lake too.
"$TOPSONGS_BIN" check --lake-url "s3://$bucket/lake" >table.out 2>&1 || fail "table: $(cat table.out)"
grep -Eq "^lake +yes +ok .*s3://$bucket/lake at " table.out || fail "table: $(cat table.out)"

run nobucket --lake-url "s3://no-such-bucket-$$/lake"
[ "$rc" = 3 ] || fail "missing bucket: exit $rc, expected 3"
lake nobucket '
assert l["status"] == "failed", l
assert l["reason"] == "s3://no-such-bucket-'"$$"': bucket does not exist (NoSuchBucket) at '"$TOPSONGS_S3_ENDPOINT"'", l
'

secret="not-the-secret-$RANDOM$RANDOM"
run badsecret --lake-url "s3://$bucket/lake" --s3-secret-key "$secret"
[ "$rc" = 3 ] || fail "wrong secret: exit $rc, expected 3"
lake badsecret '
assert l["status"] == "failed", l
assert l["reason"].startswith("s3: access denied: the access key or secret key is wrong (SignatureDoesNotMatch)"), l
'
if grep -q "$secret\|$TOPSONGS_S3_SECRET_KEY" ./*.out ./*.err; then fail "a secret leaked"; fi

run nocreds --lake-url "s3://$bucket/lake" --s3-access-key ""
[ "$rc" = 3 ] || fail "no credentials: exit $rc"
lake nocreds 'assert "s3.access-key and s3.secret-key must be set" in l["reason"], l'

closed="$(free_port)"
run down --lake-url "s3://$bucket/lake" --s3-endpoint "http://127.0.0.1:$closed"
[ "$rc" = 3 ] || fail "endpoint down: exit $rc"
[ "$ms" -lt 4000 ] || fail "endpoint down: took $ms ms with a 2000 ms timeout"
lake down '
assert l["status"] == "failed", l
assert l["reason"].startswith("s3: cannot connect to http://127.0.0.1:'"$closed"' ("), l
'
echo "ok: check probes an s3:// lake"
