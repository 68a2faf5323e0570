--[[ rate_limit: one step of the rate limiters of one subject (GCRA), all or nothing.

Each key holds one counter's "theoretical arrival time" (TAT, ms): when its budget will be whole
again. Taking an event moves the TAT one interval later and is allowed while the TAT stays within
burst * interval of now: a burst of `burst` events passes at once, then one per interval. The
counters of one subject (an address, an integration, a user) share a hash tag, so one call
checks them all atomically, and legally on Redis Cluster; if any refuses, nothing is written.
A key expires when its budget is whole again.

Modes, per counter:
  take     count one event
  ask      only check that one more event would be allowed (writes nothing)
  reserve  like ask while more than half the budget is left; with less, like take, and the
           reply says it was taken (a guess holds a failure only once failures are frequent)
  give     give one event back (never refused)

KEYS[i]  STRING: the TAT of one counter of the subject (ms, with a fraction)
ARGV[1]  now_ms
ARGV[2 + 3(i-1) ..]  for KEYS[i]: interval_ms (window / count), burst (count), mode
Returns {1, taken_mask} (bit i-1 set: a reserve of KEYS[i] was taken), or {0, retry_after_ms, i}
(KEYS[i] is the counter that refuses longest).
]]
local now_ms = tonumber(ARGV[1])
local tats, intervals, bursts, modes = {}, {}, {}, {}
local retry_ms, refusing = 0, 0
for i = 1, #KEYS do
  local at = 2 + (i - 1) * 3
  intervals[i], bursts[i], modes[i] = tonumber(ARGV[at]), tonumber(ARGV[at + 1]), ARGV[at + 2]
  local tat = tonumber(redis.call('GET', KEYS[i]) or now_ms)
  if tat < now_ms then tat = now_ms end
  tats[i] = tat
  if modes[i] ~= 'give' then
    local allowed_at = tat + intervals[i] - bursts[i] * intervals[i]
    if allowed_at - now_ms > retry_ms then
      retry_ms, refusing = math.ceil(allowed_at - now_ms), i
    end
  end
end
if retry_ms > 0 then
  return {0, retry_ms, refusing}
end

local function store(key, tat)
  if tat <= now_ms then
    redis.call('DEL', key)
  else
    redis.call('SET', key, string.format('%.3f', tat), 'PX', math.ceil(tat - now_ms))
  end
end

local taken, bit = 0, 1
for i = 1, #KEYS do
  local mode, tat, interval = modes[i], tats[i], intervals[i]
  if mode == 'reserve' and tat - now_ms > bursts[i] * interval / 2 then
    mode = 'take'
    taken = taken + bit
  end
  if mode == 'take' then
    store(KEYS[i], tat + interval)
  elseif mode == 'give' then
    store(KEYS[i], tat - interval)
  end
  bit = bit * 2
end
return {1, taken}
