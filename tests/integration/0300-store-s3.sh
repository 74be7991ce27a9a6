#!/usr/bin/env bash
# The object store against a real MinIO (SigV4 signatures verified): put, get,
# list (paged, in key order) and remove round trips with awkward keys; a
# multipart upload of a 17 MiB object in 5 MiB parts; size caps; a wrong
# secret or access key and a missing bucket give clear errors without leaking
# the secret; an unreachable endpoint fails after bounded retries.
# Uses the MinIO of scripts/test.sh (TOPSONGS_S3_ENDPOINT) or starts its own.
. "$(dirname "$0")/lib.sh"
cd "$SCRATCH"
use_minio
export TOPSONGS_ENV_FILE=/dev/null
bucket="t0300-$$-$RANDOM"
MINIO_ROOT_USER="$TOPSONGS_S3_ACCESS_KEY" MINIO_ROOT_PASSWORD="$TOPSONGS_S3_SECRET_KEY" \
	"$ROOT/scripts/minio.sh" mb "$TS_MINIO_PORT" "$bucket"
export TOPSONGS_LAKE_URL="s3://$bucket/lake"

# st NAME ARGS...: runs `topsongs store`, stdout in NAME.out, stderr in NAME.err, status in $rc.
st() {
	local name="$1"
	shift
	rc=0
	"$TOPSONGS_BIN" store "$@" >"$name.out" 2>"$name.err" || rc=$?
}
# head_etag KEY: the ETag MinIO reports for s3://bucket/lake/KEY.
head_etag() {
	curl -sI --aws-sigv4 "aws:amz:us-east-1:s3" \
		--user "$TOPSONGS_S3_ACCESS_KEY:$TOPSONGS_S3_SECRET_KEY" \
		-H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" \
		"$TOPSONGS_S3_ENDPOINT/$bucket/lake/$1" | tr -d '\r' | sed -n 's/^[Ee][Tt]ag: //p'
}

# 1. Round trips, with keys that need encoding.
keys=("raw/region=EU/date=2026-11-25/hour=13/part-0.parquet" "raw/a b+c&d=e~f.txt"
	"raw/ümlaut/ké.bin" "enriched/x" ".hidden")
i=0
for k in "${keys[@]}"; do
	printf 'object %d: %s\n' "$i" "$k" >"in$i"
	st "put$i" put "$k" --file "in$i"
	[ "$rc" = 0 ] || fail "put $k: exit $rc: $(cat "put$i.err")"
	st "get$i" get "$k"
	[ "$rc" = 0 ] || fail "get $k: exit $rc: $(cat "get$i.err")"
	cmp -s "in$i" "get$i.out" || fail "get $k returned other bytes: $(cat "get$i.out")"
	i=$((i + 1))
done
echo -n "" | "$TOPSONGS_BIN" store put empty || fail "put of an empty object"
st empty get empty
[ "$rc" = 0 ] && [ ! -s empty.out ] || fail "empty object: exit $rc, $(wc -c <empty.out) bytes"

# 2. Listing: every key in byte order, also one key a page (continuation tokens).
expected="$(printf '%s\n' "${keys[@]}" empty | LC_ALL=C sort)"
for page in 1000 2 1; do
	st ls ls --page-size "$page"
	[ "$rc" = 0 ] || fail "ls --page-size $page: exit $rc: $(cat ls.err)"
	[ "$(cut -f2 ls.out)" = "$expected" ] || fail "ls --page-size $page listed:
$(cat ls.out)
expected:
$expected"
done
grep -q "^$(wc -c <in0)	raw/region=EU/date=2026-11-25/hour=13/part-0.parquet$" ls.out ||
	fail "ls sizes: $(cat ls.out)"
st lsp ls raw/region=
[ "$(cut -f2 lsp.out)" = "raw/region=EU/date=2026-11-25/hour=13/part-0.parquet" ] ||
	fail "ls raw/region=: $(cat lsp.out)"
st lsn ls nothing/
[ "$rc" = 0 ] && [ ! -s lsn.out ] || fail "ls of an empty prefix: $rc $(cat lsn.out)"

# 3. Multipart: 17 MiB in 5 MiB parts is 4 parts; the ETag of a multipart object says so.
head -c $((17 * 1024 * 1024 + 123)) /dev/urandom >big
st bigput put big/file.bin --file big --s3-part-size 5242880
[ "$rc" = 0 ] || fail "multipart put: exit $rc: $(cat bigput.err)"
etag="$(head_etag big/file.bin)"
case "$etag" in *-4\") ;; *) fail "expected a 4-part multipart ETag, got '$etag'" ;; esac
st bigget get big/file.bin --file big.back
[ "$rc" = 0 ] || fail "multipart get: exit $rc: $(cat bigget.err)"
cmp -s big big.back || fail "the multipart object came back different"
# A single PUT below the default 16 MiB part size.
head -c $((6 * 1024 * 1024)) /dev/urandom >mid
st midput put mid.bin --file mid
case "$(head_etag mid.bin)" in *-*) fail "a 6 MiB object should be one PUT" ;; esac

# 4. Caps: nothing larger than --max-size is accepted.
st cap get big/file.bin --max-size 1000
[ "$rc" = 1 ] || fail "get over --max-size: exit $rc"
grep -q "s3://$bucket/lake/big/file.bin is larger than 1000 bytes" cap.err || fail "cap: $(cat cap.err)"

# 5. Remove: idempotent; a removed key is not found.
st rm1 rm big/file.bin
st rm2 rm big/file.bin
[ "$rc" = 0 ] || fail "second rm: exit $rc: $(cat rm2.err)"
st gone get big/file.bin
[ "$rc" = 1 ] || fail "get after rm: exit $rc"
grep -q "s3://$bucket/lake/big/file.bin: no such object" gone.err || fail "gone: $(cat gone.err)"

# 6. Wrong credentials: a clear reason, and the secret never shown.
bad_secret="wrong-secret-$RANDOM-$RANDOM"
st badsecret get raw/a\ b+c\&d=e~f.txt --s3-secret-key "$bad_secret" --log-level debug
[ "$rc" = 1 ] || fail "bad secret: exit $rc"
grep -q "s3: access denied: the access key or secret key is wrong (SignatureDoesNotMatch) at $TOPSONGS_S3_ENDPOINT" \
	badsecret.err || fail "bad secret: $(cat badsecret.err)"
st badkey put x --file in0 --s3-access-key nosuchuser --s3-secret-key "$bad_secret"
[ "$rc" = 1 ] || fail "bad access key: exit $rc"
grep -q "access key or secret key is wrong (InvalidAccessKeyId)" badkey.err || fail "bad key: $(cat badkey.err)"
if grep -q "$bad_secret\|$TOPSONGS_S3_SECRET_KEY" ./*.err ./*.out; then fail "a secret leaked"; fi

# 7. A missing bucket.
st nobucket put x --file in0 --lake-url "s3://no-such-bucket-$$/p"
[ "$rc" = 1 ] || fail "missing bucket: exit $rc"
grep -q "s3://no-such-bucket-$$: bucket does not exist (NoSuchBucket) at $TOPSONGS_S3_ENDPOINT" \
	nobucket.err || fail "missing bucket: $(cat nobucket.err)"

# 8. Nobody listening: retries with backoff, then exit 3 within a bounded time.
closed="$(free_port)"
start=$(date +%s%N)
st down get x --s3-endpoint "http://127.0.0.1:$closed" --s3-max-retries 4 --log-level debug
ms=$((($(date +%s%N) - start) / 1000000))
[ "$rc" = 3 ] || fail "endpoint down: exit $rc: $(cat down.err)"
grep -q "s3: cannot connect to http://127.0.0.1:$closed (5 attempts in" down.err || fail "down: $(cat down.err)"
[ "$(grep -c 'retrying' down.err)" = 4 ] || fail "expected 4 retries logged: $(cat down.err)"
# Backoff 100, 200, 400, 800 ms ceilings with jitter: between 0.75 and about 2 s.
[ "$ms" -ge 700 ] && [ "$ms" -lt 4000 ] || fail "down: took $ms ms"
echo "ok: store round trips against MinIO"
