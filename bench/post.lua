-- wrk script: POST one play per request, each with a fresh event_id, so the
-- api does its full work (validation, canonical JSON, produce, ack).
-- The same script drives nginx for the ceiling.
local counter = 0
local ts = os.date("!%Y-%m-%dT%H:%M:%S.000Z")
local regions = { "NA", "SA", "EU", "AF", "AS", "OC" }

request = function()
  counter = counter + 1
  local body = string.format(
    '{"event_id":"%08x-0000-4000-8000-%012x","user_id":"u%d","song_id":"s%d",' ..
    '"region":"%s","ts":"%s","country":"DE","device":"ios","duration_ms":%d}',
    math.random(0, 0x7fffffff), counter, counter % 50000, counter % 997,
    regions[counter % 6 + 1], ts, counter % 300000)
  return wrk.format("POST", "/play", { ["Content-Type"] = "application/json" }, body)
end
