-- wrk script: GET /api/top of a fixture chart at a fixed total rate.
-- RATE (requests/s in all) is spread over the connections: each waits
-- connections / RATE seconds between its requests. RATE=0: as fast as possible.
local rate = tonumber(os.getenv("RATE") or "0")
local conns = tonumber(os.getenv("CONNECTIONS") or "20")
local path = os.getenv("READ_PATH") or "/api/top?region=EU&period=hour&at=2026-11-20T13"

request = function()
  return wrk.format("GET", path)
end

delay = function()
  if rate <= 0 then return 0 end
  return conns * 1000 / rate
end
