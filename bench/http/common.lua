-- Shared by the wrk scripts of bench/bench_http.sh: the token, and the ids
-- of the people in the vault (one per line in $SARGS_BENCH_IDS).
token = os.getenv("SARGS_BENCH_TOKEN")
ids = {}
local f = os.getenv("SARGS_BENCH_IDS")
if f then
  for line in io.lines(f) do ids[#ids + 1] = line end
end
wrk.headers["Authorization"] = "Bearer " .. token

local counter = 1
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end

function init(args)
  math.randomseed(tid * 7919)
end

function pick()
  return ids[math.random(#ids)]
end
