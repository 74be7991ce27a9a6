#!/usr/bin/env bash
# The dashboard (web/): install its npm packages from package-lock.json,
# build it into web/dist (what `topsongs api` serves), run its tests.
#
#   scripts/web.sh install   npm ci, when node_modules is missing or older than the lock
#   scripts/web.sh build     install + npm run build, only when a source is newer than dist
#   scripts/web.sh test      install + the Vitest component tests
#   scripts/web.sh e2e URL   the browser test against a running api (Debian's chromium)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
web="$root/web"
cd "$web"

log() { printf 'web: %s\n' "$*" >&2; }

need_node() {
	command -v npm >/dev/null && return 0
	log "installing Node.js and npm (Debian packages)"
	local sudo=""
	[ "$(id -u)" -ne 0 ] && sudo="sudo"
	DEBIAN_FRONTEND=noninteractive $sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
}

install() {
	need_node
	if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
		log "npm ci"
		npm ci --no-audit --no-fund --loglevel=error >&2
	fi
}

# True when dist/index.html is missing or older than any input of the build.
stale() {
	[ -f dist/index.html ] || return 0
	[ -n "$(find src index.html package-lock.json vite.config.ts tsconfig.json -newer dist/index.html -print -quit 2>/dev/null)" ]
}

case "${1:-build}" in
install) install ;;
build)
	if stale; then
		install
		log "building the page into web/dist"
		npm run --silent build >&2
	fi
	echo "$web/dist"
	;;
test)
	install
	npx vitest run
	;;
e2e)
	install
	node e2e/page.test.mjs "${2:?usage: web.sh e2e BASE_URL}"
	;;
*)
	log "usage: web.sh install|build|test|e2e URL"
	exit 2
	;;
esac
