-- wrk script: POST /plays with a batch of N plays as NDJSON (N from the
-- BATCH environment variable, default 1000). Bodies are built once per
-- thread with unique event_ids per batch slot; ids repeat across requests,
-- which Kafka does not mind and enrich later collapses.
local n = tonumber(os.getenv("BATCH") or "1000")
local ts = os.date("!%Y-%m-%dT%H:%M:%S.000Z")
local regions = { "NA", "SA", "EU", "AF", "AS", "OC" }
local body

init = function(args)
  local lines = {}
  local salt = math.random(0, 0x7fffffff)
  for i = 1, n do
    lines[i] = string.format(
      '{"event_id":"%08x-0000-4000-8000-%012x","user_id":"u%d","song_id":"s%d",' ..
      '"region":"%s","ts":"%s","duration_ms":%d}',
      salt, i, i % 50000, i % 997, regions[i % 6 + 1], ts, i * 7 % 300000)
  end
  body = table.concat(lines, "\n") .. "\n"
end

request = function()
  return wrk.format("POST", "/plays", { ["Content-Type"] = "application/x-ndjson" }, body)
end

-- Count what the api says it accepted ({"accepted":N,...}): a batch shed
-- with 503, or with items the api could not hand to Kafka, counts only its
-- accepted plays. done() prints the total for bench/api.sh.
local threads = {}
accepted = 0

setup = function(thread)
  table.insert(threads, thread)
end

response = function(status, headers, body)
  local n = body and body:match('"accepted":(%d+)')
  if n then accepted = accepted + tonumber(n) end
end

done = function(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("accepted") end
  io.write(string.format("accepted plays: %d\n", total))
end
