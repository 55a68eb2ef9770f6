-- wrk script for bench/http_load.sh.
--
-- Each wrk thread sends GET / (one counter increment on the session server)
-- until TAIL seconds before the end of the run, then GET /count (read-only).
-- wrk abandons the requests in flight when it stops; with read-only requests
-- at the end, every increment the server made belongs to a response wrk read,
-- so the session's counter can be compared with wrk's count exactly.
-- done() prints "counted: N", the 200 responses to GET / (body "n=...").
--
-- Arguments (after --): DURATION_SECONDS TAIL_SECONDS

local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_usec; } http_load_timeval;
int gettimeofday(http_load_timeval *tv, void *tz);
]]
local tv = ffi.new("http_load_timeval")
local function now()
  ffi.C.gettimeofday(tv, nil)
  return tonumber(tv.tv_sec) + tonumber(tv.tv_usec) / 1e6
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local duration = tonumber(args[1] or "5")
  local tail = tonumber(args[2] or "0.3")
  cutoff = now() + duration - tail
  counting = wrk.format("GET", "/")
  reading = wrk.format("GET", "/count")
  counted = 0
  sent = 0
end

function request()
  if now() < cutoff then
    sent = sent + 1
    return counting
  end
  return reading
end

function response(status, headers, body)
  if status == 200 and string.sub(body, 1, 2) == "n=" then
    counted = counted + 1
  end
end

function done(summary, latency, requests)
  local total, total_sent = 0, 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("counted")
    total_sent = total_sent + thread:get("sent")
  end
  io.write(string.format("counted: %d\n", total))
  io.write(string.format("sent: %d\n", total_sent))
  io.write(string.format("max_latency_us: %d\n", latency.max))
  io.write(string.format("p99_us: %d\n", latency:percentile(99)))
  io.write(string.format("non2xx: %d\n", summary.errors.status))
  io.write(string.format("socket_errors: %d\n",
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
