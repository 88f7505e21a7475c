-- /v1/may/batch: 1,000 questions (random people, a consent purpose) per call.
dofile(os.getenv("SARGS_BENCH_LUA") .. "/common.lua")
wrk.headers["Content-Type"] = "application/json"
request = function()
  local q = {}
  for i = 1, 1000 do
    q[i] = '{"subject":"' .. pick() .. '","purpose":"newsletter"}'
  end
  return wrk.format("POST", "/v1/may/batch", nil, '{"decisions":[' .. table.concat(q, ",") .. ']}')
end
