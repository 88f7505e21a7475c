-- /v1/may for a random person and a consent purpose.
dofile(os.getenv("SARGS_BENCH_LUA") .. "/common.lua")
request = function()
  return wrk.format("GET", "/v1/may?subject=" .. pick() .. "&purpose=newsletter")
end
