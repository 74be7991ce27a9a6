#!/usr/bin/env bash
# The command line: help for every command from the one table, version,
# usage errors with exit 2, and configuration precedence
# default < .env < environment < flag, with secrets redacted.
. "$(dirname "$0")/lib.sh"
cd "$SCRATCH"
unset TOPSONGS_KAFKA_BROKERS TOPSONGS_PG_URL TOPSONGS_LOG_FORMAT

"$TOPSONGS_BIN" help >help.txt || fail "help failed"
"$TOPSONGS_BIN" version | grep -Eq '^topsongs [0-9]+\.[0-9]+\.[0-9]+' || fail "version"
cmds="$(sed -n 's/^  \([a-z]*\)  .*/\1/p' help.txt)"
[ "$(echo "$cmds" | wc -w)" -ge 5 ] || fail "help lists too few commands: $cmds"
for c in $cmds; do
	"$TOPSONGS_BIN" "$c" -h >out.txt || fail "$c -h exited non-zero"
	grep -q "^usage: topsongs $c" out.txt || fail "$c -h shows no usage"
	grep -q "^exit status:" out.txt || fail "$c -h documents no exit status"
	"$TOPSONGS_BIN" help "$c" | cmp -s - out.txt || fail "help $c differs from $c -h"
done
set +e
"$TOPSONGS_BIN" nosuchcommand 2>err.txt; [ $? = 2 ] || fail "unknown command: exit not 2"
"$TOPSONGS_BIN" config --no-such-flag 2>err.txt; [ $? = 2 ] || fail "unknown flag: exit not 2"
grep -q "unknown option '--no-such-flag'" err.txt || fail "unknown flag message: $(cat err.txt)"
"$TOPSONGS_BIN" config --api-max-batch 0 2>err.txt; [ $? = 2 ] || fail "out of range: exit not 2"
grep -q 'out of range' err.txt || fail "range message: $(cat err.txt)"
TOPSONGS_TYPO=1 "$TOPSONGS_BIN" config 2>err.txt; [ $? = 2 ] || fail "unknown env key: exit not 2"
echo 'TOPSONGS_NOPE=1' >.env
"$TOPSONGS_BIN" config 2>err.txt; [ $? = 2 ] || fail "unknown .env key: exit not 2"
grep -q '.env:1' err.txt || fail ".env error does not name file:line: $(cat err.txt)"
set -e

value() { "$TOPSONGS_BIN" config "$@" | sed -n "s/^kafka.topic = //p"; }
rm -f .env
[ "$(value)" = plays ] || fail "default topic"
printf '# comment\nexport TOPSONGS_KAFKA_TOPIC="from-dotenv"\n' >.env
[ "$(value)" = from-dotenv ] || fail ".env should override the default"
[ "$(TOPSONGS_KAFKA_TOPIC=from-env value)" = from-env ] || fail "environment should override .env"
[ "$(TOPSONGS_KAFKA_TOPIC=from-env value --kafka-topic from-flag)" = from-flag ] || fail "flag should override environment"
[ "$(TOPSONGS_KAFKA_TOPIC=from-env value --kafka-topic=from-flag2)" = from-flag2 ] || fail "--key=value form"
[ "$(TOPSONGS_ENV_FILE=/dev/null value)" = plays ] || fail "TOPSONGS_ENV_FILE should replace .env"

echo 'TOPSONGS_PG_URL=postgresql://me:hunter2secret@db.example:5432/x' >.env
echo 'TOPSONGS_KAFKA_SASL_PASSWORD=saslsecret99' >>.env
"$TOPSONGS_BIN" config >out.txt
grep -q 'hunter2secret\|saslsecret99' out.txt && fail "secret printed by config"
grep -q 'postgresql://me:<redacted>@db.example:5432/x' out.txt || fail "pg.url not redacted as expected: $(grep pg.url out.txt)"
# Through a file: grep -q quits at its first match, and with pipefail the
# writer's SIGPIPE would fail the test once the table passes one pipe write.
"$TOPSONGS_BIN" config --reference >ref.txt || fail "config --reference"
grep -q '^| `api.listen` | `TOPSONGS_API_LISTEN` | `--api-listen`' ref.txt || fail "reference table"
echo "ok: cli"
