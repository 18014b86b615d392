-- POST /v1/sessions with a wrong password: argon2 work with no account needed.
local handle = os.getenv("FY_HANDLE")
request = function()
  return wrk.format("POST", "/v1/sessions", { ["Content-Type"] = "application/json" }, '{"handle":"' .. handle .. '","password":"not the password at all"}')
end
