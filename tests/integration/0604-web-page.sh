#!/usr/bin/env bash
# The whole page in a browser: Debian's chromium driven by playwright-core
# (web/e2e/page.test.mjs) against this api serving the built page (web/dist)
# over the fixture charts: ten rows, region and period switches update the
# URL and the table, a shared URL restores the selection, live mode
# refreshes without reloading, phone width.
. "$(dirname "$0")/lib.sh"

[ -x /usr/bin/chromium ] || fail "chromium is missing (scripts/setup.sh test installs it)"
dist="$("$ROOT/scripts/web.sh" build)" || fail "could not build the page"
API_PORT="$(free_port)"
start_api "$API_PORT" --api-web-dir "$dist"
load_chart_fixture
timeout 180 "$ROOT/scripts/web.sh" e2e "http://127.0.0.1:$API_PORT" || fail "browser test failed"
echo "ok: the page works in a browser"
