-- GET a random person by id (decrypted, audited).
dofile(os.getenv("SARGS_BENCH_LUA") .. "/common.lua")
request = function()
  return wrk.format("GET", "/v1/subjects/" .. pick())
end
