#!/usr/bin/env bash
# Installs what building, running and testing Top Songs needs on a Debian 12
# machine, idempotently: each group is skipped when it is already present, so a
# second run takes well under a second.
#
#   scripts/setup.sh build   C toolchain and libraries (what `make` needs)
#   scripts/setup.sh run     build + PostgreSQL + the Kafka broker jars
#   scripts/setup.sh test    run + clang/libFuzzer, sanitizers, clang-format,
#                            Python test tools
#   scripts/setup.sh bench   test + wrk and nginx
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
level="${1:-build}"

BUILD_PKGS="build-essential pkg-config libmicrohttpd-dev librdkafka-dev libpq-dev
  libcurl4-openssl-dev libjansson-dev libzstd-dev libsnappy-dev zlib1g-dev libssl-dev"
RUN_PKGS="postgresql postgresql-client tzdata"
TEST_PKGS="clang libclang-rt-14-dev clang-format python3 python3-venv kcat curl nginx-light chromium"
BENCH_PKGS="wrk nginx-light"

log() { printf 'setup: %s\n' "$*" >&2; }

missing_pkgs() {
	local p missing=""
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing="$missing $p"
	done
	echo "$missing"
}

apt_install() {
	local missing
	# shellcheck disable=SC2086
	missing="$(missing_pkgs $*)"
	[ -z "$missing" ] && return 0
	log "installing Debian packages:$missing"
	local sudo=""
	[ "$(id -u)" -ne 0 ] && sudo="sudo"
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update -qq
	# shellcheck disable=SC2086
	$sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

case "$level" in
build) apt_install $BUILD_PKGS ;;
run)
	apt_install $BUILD_PKGS $RUN_PKGS
	"$here/kafka.sh" install
	;;
test)
	apt_install $BUILD_PKGS $RUN_PKGS $TEST_PKGS
	"$here/kafka.sh" install
	"$here/minio.sh" install
	;;
bench)
	apt_install $BUILD_PKGS $RUN_PKGS $TEST_PKGS $BENCH_PKGS
	"$here/kafka.sh" install
	;;
*)
	log "unknown level '$level' (build, run, test or bench)"
	exit 2
	;;
esac
