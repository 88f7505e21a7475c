-- POST a new person with five fields (one blind-indexed e-mail).
dofile(os.getenv("SARGS_BENCH_LUA") .. "/common.lua")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local n = 0
request = function()
  n = n + 1
  local body = string.format('{"fields":{"name":"Anna","surname":"Ozola",' ..
    '"email":"p%d-%d-%d@example.lv","country":"LV","school_name":"Rigas 1. vidusskola"}}',
    tid, n, math.random(1000000000))
  return wrk.format(nil, nil, nil, body)
end
