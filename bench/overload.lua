-- wrk script for bench/overload.sh: bench/post.lua's plays, offered at a
-- fixed total RATE (requests/s) spread over CONNECTIONS connections: each
-- connection waits CONNECTIONS / RATE seconds after a response before its
-- next request, so the load stays near RATE whatever the api answers.
local rate = tonumber(os.getenv("RATE") or "0")
local conns = tonumber(os.getenv("CONNECTIONS") or "256")
local counter = 0
local ts = os.date("!%Y-%m-%dT%H:%M:%S.000Z")
local regions = { "NA", "SA", "EU", "AF", "AS", "OC" }
local salt

init = function(args)
  salt = math.random(0, 0x7fffffff)
end

request = function()
  counter = counter + 1
  local body = string.format(
    '{"event_id":"%08x-0000-4000-8000-%012x","user_id":"u%d","song_id":"s%d",' ..
    '"region":"%s","ts":"%s","country":"DE","device":"ios","duration_ms":%d}',
    salt, counter, counter % 50000, counter % 997,
    regions[counter % 6 + 1], ts, counter % 300000)
  return wrk.format("POST", "/play", { ["Content-Type"] = "application/json" }, body)
end

delay = function()
  if rate <= 0 then return 0 end
  return conns * 1000 / rate
end
