-- GET a video's whole media file, streamed from disk.
local vid = os.getenv("FY_VIDEO")
request = function()
  return wrk.format("GET", "/v1/videos/" .. vid .. "/media")
end
