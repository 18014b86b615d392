-- The soak's mix in every 20 requests: 12 feed pages, 6 event batches, 1 media download,
-- and one hostile request (a feed cursor far past the end), which must get a 400.
local token = os.getenv("FY_TOKEN")
local vid = os.getenv("FY_VIDEO")
local n = 0
local salt = tostring(math.random(1, 1e9))
request = function()
  n = n + 1
  local k = n % 20
  local auth = { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }
  if k < 12 then
    return wrk.format("GET", "/v1/feed?limit=10", auth)
  elseif k < 18 then
    local body = '{"events":[{"id":"s' .. salt .. "-" .. n .. '","kind":"view","video_id":"' .. vid .. '","watch_ms":4000}]}'
    return wrk.format("POST", "/v1/events", auth, body)
  elseif k == 18 then
    return wrk.format("GET", "/v1/videos/" .. vid .. "/media")
  else
    return wrk.format("GET", "/v1/feed?cursor=1000000000000&personalized=false")
  end
end
