-- wrk script of bench/run.py: every request is a random line of a targets file, and done()
-- prints one JSON line with the figures wrk does not print itself (p95, non-2xx answers).
--
--   wrk -t2 -c16 -d10s --timeout 30s -s bench/wrk_targets.lua http://127.0.0.1:8700 -- TARGETS SEED
--
-- TARGETS has one request per line: the path, then its headers, tab-separated, each as
-- "Name: value" (e.g. "/c/clinic-01/patients/<id>/<TAB>Cookie: sessionid=..."). Each thread
-- builds every request once and draws from them with its own seeded random sequence.

local threads = {}
local requests = {}

function setup(thread)
   table.insert(threads, thread)
   thread:set("number", #threads)
end

local function parse(line)
   local fields = {}
   for field in (line .. "\t"):gmatch("([^\t]*)\t") do
      table.insert(fields, field)
   end
   local headers = { Host = wrk.headers["Host"] }
   for i = 2, #fields do
      local name, value = fields[i]:match("^([^:]+):%s*(.*)$")
      headers[name] = value
   end
   return wrk.format("GET", fields[1], headers)
end

function init(args)
   for line in io.lines(args[1]) do
      if line ~= "" then
         table.insert(requests, parse(line))
      end
   end
   math.randomseed(tonumber(args[2]) * 1000 + number)
   non_2xx = 0
end

function request()
   return requests[math.random(#requests)]
end

function response(status, headers, body)
   if status < 200 or status > 299 then
      non_2xx = non_2xx + 1
   end
end

function done(summary, latency, _)
   local not_ok = 0
   for _, thread in ipairs(threads) do
      not_ok = not_ok + thread:get("non_2xx")
   end
   local errors = summary.errors
   io.write(string.format(
      'BENCH {"requests": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, '
         .. '"max_us": %d, "non_2xx": %d, "socket_errors": %d}\n',
      summary.requests, summary.duration,
      latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,
      not_ok, errors.connect + errors.read + errors.write + errors.timeout
   ))
end
