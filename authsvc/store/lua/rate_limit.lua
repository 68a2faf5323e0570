--[[ rate_limit: one step of one rate limiter for one subject (GCRA).

The key holds the subject's "theoretical arrival time" (TAT, ms): when its budget will be whole
again. Taking an event moves the TAT one interval later, and is allowed while the TAT stays
within burst * interval of now: a burst of `burst` events passes at once, then one per interval.
Giving one back moves it one interval earlier (an attempt that reserved a failure and turned out
right). One key, one read and one write: atomic, and legal on Redis Cluster (every limiter key
is its own hash tag). The key expires when the budget is whole again.

KEYS[1]  STRING: the TAT of one limiter and subject (ms, with a fraction)
ARGV[1]  now_ms
ARGV[2]  interval_ms: time one event occupies (window / count)
ARGV[3]  burst: events allowed at once (count)
ARGV[4]  mode: "take" (count one event if allowed), "ask" (only say whether one more would be
         allowed; writes nothing), "give" (give one event back; never refused)
Returns {1, 0} allowed (taken, given back, or would be), or {0, retry_after_ms} refused (nothing
written).
]]
local now_ms = tonumber(ARGV[1])
local interval_ms = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local mode = ARGV[4]

local tat = tonumber(redis.call('GET', KEYS[1]) or now_ms)
if tat < now_ms then tat = now_ms end

if mode == 'give' then
  local earlier = tat - interval_ms
  if earlier <= now_ms then
    redis.call('DEL', KEYS[1])
  else
    redis.call('SET', KEYS[1], string.format('%.3f', earlier), 'PX', math.ceil(earlier - now_ms))
  end
  return {1, 0}
end

local new_tat = tat + interval_ms
local allowed_at = new_tat - burst * interval_ms
if allowed_at > now_ms then
  return {0, math.ceil(allowed_at - now_ms)}
end
if mode == 'take' then
  redis.call('SET', KEYS[1], string.format('%.3f', new_tat), 'PX', math.ceil(new_tat - now_ms))
end
return {1, 0}
