-- The refresh grant with a fresh refresh token per request. Tokens are pre-minted, one per
-- line in $TOKENS_FILE; wrk thread k uses lines k, k+n, k+2n, … ($WRK_THREADS = n).
-- $CLIENT_BASIC is the "Basic …" client authentication header.
dofile("benchmarks/wrk/report.lua")

local counter = 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

function init(args)
  tokens = {}
  local n = tonumber(os.getenv("WRK_THREADS"))
  local i = 0
  for line in io.lines(os.getenv("TOKENS_FILE")) do
    if i % n == id then tokens[#tokens + 1] = line end
    i = i + 1
  end
  index = 0
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  wrk.headers["Authorization"] = os.getenv("CLIENT_BASIC")
end

function request()
  index = index + 1
  local token = tokens[index] or "exhausted"
  return wrk.format(nil, nil, nil, "grant_type=refresh_token&refresh_token=" .. token)
end
