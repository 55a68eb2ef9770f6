-- wrk script for bench/cgi_vs_php.sh: one round on one variant's counter page.
--
-- Every request carries the round's session cookie (wrk -H "Cookie: ...").
-- Until TAIL seconds before the end of the round each request is COUNT_PATH
-- (the counter page: one increment); after that READ_PATH (the same variant
-- reading the session without changing the counter). wrk abandons the
-- requests in flight when it stops; with read-only requests at the end, every
-- counting request has been answered by then, so the server's count of 200s
-- can be compared with the session's counter exactly.
--
-- A response is a counting one if its body shows a counter: the CGI example's
-- `<b id="visits">N</b>`, or PHP's bare `N`. The read pages show neither.
--
-- done() prints, for the shell script to read:
--   counted: N        200 responses of the counter page wrk read
--   window_s: S       first counting request sent -> last counting response read
--   p99_us, max_us    wrk's latency over ALL requests of the round (tail included)
--   non2xx, socket_errors
--
-- Arguments (after --): COUNT_PATH READ_PATH DURATION_SECONDS TAIL_SECONDS

local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_usec; } cgi_bench_timeval;
int gettimeofday(cgi_bench_timeval *tv, void *tz);
]]
local tv = ffi.new("cgi_bench_timeval")
local function now()
  ffi.C.gettimeofday(tv, nil)
  return tonumber(tv.tv_sec) + tonumber(tv.tv_usec) / 1e6
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local count_path = args[1] or "/"
  local read_path = args[2] or "/"
  local duration = tonumber(args[3] or "10")
  local tail = tonumber(args[4] or "1")
  cutoff = now() + duration - tail
  counting = wrk.format("GET", count_path)
  reading = wrk.format("GET", read_path)
  counted = 0
  first_sent = 0
  last_counted = 0
end

function request()
  local t = now()
  if t < cutoff then
    if first_sent == 0 then
      first_sent = t
    end
    return counting
  end
  return reading
end

function response(status, headers, body)
  if status == 200 and (string.find(body, 'id="visits">%d+') or string.find(body, "^%s*%d+%s*$")) then
    counted = counted + 1
    last_counted = now()
  end
end

function done(summary, latency, requests)
  local total, first, last = 0, nil, 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("counted")
    local f = thread:get("first_sent")
    if f > 0 and (first == nil or f < first) then
      first = f
    end
    last = math.max(last, thread:get("last_counted"))
  end
  local window = 0
  if first ~= nil and last > first then
    window = last - first
  end
  io.write(string.format("counted: %d\n", total))
  io.write(string.format("window_s: %.6f\n", window))
  io.write(string.format("p99_us: %d\n", latency:percentile(99)))
  io.write(string.format("max_us: %d\n", latency.max))
  io.write(string.format("non2xx: %d\n", summary.errors.status))
  io.write(string.format("socket_errors: %d\n",
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
