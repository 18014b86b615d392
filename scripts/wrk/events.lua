-- POST /v1/events: one view event per request, each with a fresh id (a durable, fsynced append).
local token = os.getenv("FY_TOKEN")
local vid = os.getenv("FY_VIDEO")
local n = 0
local salt = tostring(math.random(1, 1e9))
request = function()
  n = n + 1
  local body = '{"events":[{"id":"w' .. salt .. "-" .. n .. '","kind":"view","video_id":"' .. vid .. '","watch_ms":4000}]}'
  return wrk.format("POST", "/v1/events", { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }, body)
end
