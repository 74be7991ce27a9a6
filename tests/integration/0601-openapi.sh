#!/usr/bin/env bash
# The OpenAPI document is true: it is valid JSON naming OpenAPI 3.1; every
# route of the route table (src/api/api_server.c) is in it; every path it
# lists exists, and every GET path answers 200 when called with the
# examples the document gives for its parameters.
. "$(dirname "$0")/lib.sh"

API_PORT="$(free_port)"
start_api "$API_PORT" --api-web-dir ""
load_chart_fixture
[ "$(get /api/openapi.json)" = 200 ] || fail "GET /api/openapi.json"
cp "$SCRATCH/body" "$SCRATCH/openapi.json"
etag="$(header ETag)"
[ "$(get /api/openapi.json -H "If-None-Match: $etag")" = 304 ] || fail "openapi.json: no 304"

# The route table, read from the source: {"/path", "METHOD", ...}
grep -oE '^\s*\{"/[^"]*", "[A-Z]+"' "$ROOT/src/api/api_server.c" | sed -E 's/^\s*\{"([^"]*)", "([A-Z]+)"/\2 \1/' \
	>"$SCRATCH/routes"
[ "$(wc -l <"$SCRATCH/routes")" -ge 11 ] || fail "could not read the route table: $(cat "$SCRATCH/routes")"

python3 - "$SCRATCH/openapi.json" "$SCRATCH/routes" "http://127.0.0.1:$API_PORT" <<'PY' || fail "openapi check"
import json, sys, urllib.request, urllib.parse, urllib.error
doc = json.load(open(sys.argv[1]))
base = sys.argv[3]
assert doc["openapi"].startswith("3.1"), doc["openapi"]
paths = doc["paths"]
routes = [l.split() for l in open(sys.argv[2]) if l.strip()]
for method, path in routes:
    op = paths.get(path, {}).get(method.lower())
    assert op, f"route {method} {path} missing from the document"
    assert not op.get("x-undocumented"), f"{method} {path} undocumented"
    assert op.get("summary") and op.get("responses"), f"{method} {path} incomplete"
# every documented path is a route
assert {(m.upper(), p) for p, item in paths.items() for m in item} == {(m, p) for m, p in routes}, "document and route table differ"

def refs(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref":
                yield v
            else:
                yield from refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from refs(v)
for r in refs(doc):
    assert r.startswith("#/components/schemas/") and r.split("/")[-1] in doc["components"]["schemas"], r

called = 0
for path, item in paths.items():
    for method, op in item.items():
        if method != "get":
            # the ingest routes: an empty POST is refused, but the route exists
            req = urllib.request.Request(base + path, data=b"", method=method.upper(), headers={"Content-Type": "application/json"})
            try:
                urllib.request.urlopen(req, timeout=10)
            except urllib.error.HTTPError as e:
                assert e.code not in (404, 405), f"{method} {path}: {e.code}"
            called += 1
            continue
        q = []
        for prm in op.get("parameters", []):
            ex = prm.get("example")
            if ex is None:
                assert not prm.get("required"), f"{path}: required {prm['name']} has no example"
                continue
            for v in (ex if isinstance(ex, list) else [ex]):
                q.append((prm["name"], str(v)))
        url = base + path + ("?" + urllib.parse.urlencode(q) if q else "")
        try:
            res = urllib.request.urlopen(url, timeout=10)
        except urllib.error.HTTPError as e:
            if path == "/readyz" and e.code == 503:
                continue
            raise AssertionError(f"GET {url}: {e.code} {e.read()[:300]}")
        assert res.status == 200, (url, res.status)
        ct = res.headers["Content-Type"]
        documented = list(op["responses"]["200"].get("content", {}).keys())
        assert not documented or any(ct.startswith(d.split(";")[0]) for d in documented), (url, ct, documented)
        if ct.startswith("application/json"):
            json.loads(res.read())
        called += 1
print("called", called, "operations")
assert called == len(routes), (called, len(routes))
PY
echo "ok: the OpenAPI document matches the routes and every path answers"
