#!/usr/bin/env bash
# The api serves the dashboard's files itself: MIME types, caching (hashed
# assets immutable, index.html no-cache), ETag/304, HEAD, the SPA fallback
# for browser navigations only, and no way out of the folder (.., %2e%2e,
# ..%2f, backslashes, hidden files, symlinks).
. "$(dirname "$0")/lib.sh"

site="$SCRATCH/site"
mkdir -p "$site/assets" "$site/sub" "$SCRATCH/outside"
echo '<!doctype html><title>fixture page</title>' >"$site/index.html"
echo 'console.log(1)' >"$site/assets/index-AbC123.js"
echo 'body{}' >"$site/assets/index-AbC123.css"
printf '\x89PNG\r\n' >"$site/logo.png"
echo '{"a":1}' >"$site/sub/data.json"
echo 'SECRET=1' >"$site/.env"
echo 'outside' >"$SCRATCH/outside/secret.txt"
ln -s "$SCRATCH/outside/secret.txt" "$site/link.txt"
ln -s "$SCRATCH/outside" "$site/linkdir"

API_PORT="$(free_port)"
start_api "$API_PORT" --api-web-dir "$site"

expect() { # STATUS PATH [curl args] -> checks the status
	local want="$1" path="$2" code
	shift 2
	code="$(get "$path" --path-as-is "$@")"
	[ "$code" = "$want" ] || fail "$path answered $code, expected $want: $(head -c 200 "$SCRATCH/body")"
}
no_leak() {
	! grep -q -e 'outside' -e 'SECRET' -e 'root:' "$SCRATCH/body" || fail "leaked: $(head -c 200 "$SCRATCH/body")"
}

expect 200 /
grep -q 'fixture page' "$SCRATCH/body" || fail "/ is not index.html"
[ "$(header Content-Type)" = "text/html; charset=utf-8" ] || fail "index Content-Type $(header Content-Type)"
[ "$(header Cache-Control)" = no-cache ] || fail "index Cache-Control $(header Cache-Control)"
etag="$(header ETag)"
expect 304 / -H "If-None-Match: $etag"
expect 200 /index.html
expect 200 /assets/index-AbC123.js
[ "$(header Content-Type)" = "text/javascript; charset=utf-8" ] || fail "js type $(header Content-Type)"
[ "$(header Cache-Control)" = "public, max-age=31536000, immutable" ] || fail "asset caching $(header Cache-Control)"
[ "$(header X-Content-Type-Options)" = nosniff ] || fail "no nosniff"
expect 200 /assets/index-AbC123.css
[ "$(header Content-Type)" = "text/css; charset=utf-8" ] || fail "css type"
expect 200 /logo.png
[ "$(header Content-Type)" = image/png ] || fail "png type"
[ "$(header Cache-Control)" = "public, max-age=3600" ] || fail "other file caching"
expect 200 /sub/data.json
[ "$(header Content-Type)" = application/json ] || fail "json type"
[ "$(curl -s -o /dev/null -w '%{http_code} %{size_download}' -I "http://127.0.0.1:$API_PORT/logo.png")" = "200 0" ] ||
	fail "HEAD"

# SPA fallback: browser navigations to unknown paths get index.html
expect 200 /charts/EU -H 'Accept: text/html,application/xhtml+xml'
grep -q 'fixture page' "$SCRATCH/body" || fail "no SPA fallback"
expect 404 /charts/EU                                   # not a browser
expect 404 /assets/missing.js -H 'Accept: text/html'    # a missing asset is missing
expect 404 /api/unknown -H 'Accept: text/html'          # never for /api
[ "$(header Content-Type)" = application/json ] || fail "/api 404 not JSON"
[ "$(get /index.html -XPOST)" = 404 ] || fail "POST to a file"

# traversal, raw and encoded; hidden files; symlinks out of the folder
for p in /../outside/secret.txt /../../../../etc/passwd /%2e%2e/outside/secret.txt \
	/%2E%2E/%2e%2e/etc/passwd /..%2foutside/secret.txt /assets/..%2f..%2foutside/secret.txt \
	/assets/%2e%2e/%2e%2e/outside/secret.txt /./index.html /sub/./data.json '/..%5coutside' \
	'/a%5c..%5c..%5cetc%5cpasswd' /%00 '/index.html%00.png' //etc/passwd; do
	code="$(get "$p" --path-as-is -H 'Accept: text/html')"
	[ "$code" = 400 ] || [ "$code" = 404 ] || fail "$p answered $code"
	no_leak
done
for p in /.env /%2eenv /sub/../.env /link.txt /linkdir/secret.txt; do
	code="$(get "$p" --path-as-is)"
	[ "$code" = 400 ] || [ "$code" = 404 ] || fail "$p answered $code"
	no_leak
done
# double encoding is a literal name, not a way up
expect 404 /%252e%252e/outside/secret.txt
no_leak
# a very long path
expect 400 "/$(python3 -c 'print("a/"*700)')"

# without a page folder: no page, the api still serves
API_PORT="$(free_port)"
start_api "$API_PORT" --api-web-dir "$SCRATCH/nothing-here"
expect 404 / -H 'Accept: text/html'
grep -q 'no dashboard to serve' "$SCRATCH/api.log" || fail "missing page not logged"
echo "ok: the page's files are served with the right types and caching, and nothing else"
