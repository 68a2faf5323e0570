-- replay.lua: make wrk send pre-signed Auth API requests, one per line of a file, in file order.
--
-- Line format (written by loadtests/core/plan.py):  <Authorization>\t<Date>\t<JSON body>
-- Arguments after `--`:  <file> <path> [delay_ms] [wrap]
--   delay_ms > 0  paces every connection: after each answer it waits a random time with mean
--                 delay_ms, exponentially distributed, so the connections do not fall into step
--                 and arrivals are Poisson-like (wrk sleeps whole milliseconds: rounding is
--                 random too, which keeps the mean)
--   wrap = 1      starts the file again at its end (the ceiling run, whose app checks nothing);
--                 otherwise an exhausted file sends unsigned pings, counted as `exhausted`
-- Answers are counted by scanning the body: "result":"allow", "result":"deny", anything else.
-- done() prints one line, `WRK_RESULT {json}`, that loadtests/core/wrk.py parses.
--
-- wrk calls request() once more than it sends (to check the request parses), so `calls` is an
-- upper bound on the lines consumed: the next run starts there and skips at most one code.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  source = assert(io.open(args[1], "r"))
  path = args[2]
  wrap = args[4] == "1"
  calls, allowed, denied, other, exhausted = 0, 0, 0, 0, 0
  first_error = ""
  local pace = tonumber(args[3] or "0") or 0
  if pace > 0 then
    math.randomseed(os.time())
    delay = function()
      local wait = -pace * math.log(1 - math.random())
      return math.floor(wait + math.random())
    end
  end
end

local function next_line()
  local line = source:read("*l")
  if line == nil and wrap then
    source:seek("set", 0)
    line = source:read("*l")
  end
  return line
end

function request()
  calls = calls + 1
  local line = next_line()
  if line == nil then
    exhausted = exhausted + 1
    return wrk.format("GET", "/auth/v2/ping")
  end
  local authorization, date, body = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
  return wrk.format("POST", path, {
    ["Authorization"] = authorization,
    ["Date"] = date,
    ["Content-type"] = "application/json",
  }, body)
end

function response(status, headers, body)
  if body:find('"result":"allow"', 1, true) then
    allowed = allowed + 1
  elseif body:find('"result":"deny"', 1, true) then
    denied = denied + 1
  else
    other = other + 1
    if first_error == "" then
      first_error = status .. " " .. body:sub(1, 160)
    end
  end
end

function done(summary, latency, requests)
  local totals = { calls = 0, allowed = 0, denied = 0, other = 0, exhausted = 0 }
  local first = ""
  for _, thread in ipairs(threads) do
    for name, value in pairs(totals) do
      totals[name] = value + thread:get(name)
    end
    if first == "" then
      first = thread:get("first_error")
    end
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"duration_us":%d,"requests":%d,"bytes":%d,'
      .. '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},'
      .. '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f},'
      .. '"calls":%d,"allowed":%d,"denied":%d,"other":%d,"exhausted":%d,"first_error":"%s"}\n',
    summary.duration, summary.requests, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    latency.mean,
    totals.calls, totals.allowed, totals.denied, totals.other, totals.exhausted,
    (first:gsub('[%c"\\]', "?"))))
end
