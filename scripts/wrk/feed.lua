-- GET /v1/feed (personalised For You) as the signed-in demo user.
local token = os.getenv("FY_TOKEN")
request = function()
  return wrk.format("GET", "/v1/feed?limit=10", { ["Authorization"] = "Bearer " .. token })
end
