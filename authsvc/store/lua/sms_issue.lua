--[[ sms_issue: replace a user's SMS passcode batch, unless cost controls refuse it.

A new batch invalidates the previous one entirely. Between two batches a user waits a cooldown,
and a day (UTC) allows a limited number of batches: SMS costs money and can be abused.

KEYS[1]  user HASH        (sms_sent_at, sms_day, sms_day_count)
KEYS[2]  user's SMS HASH  (code hash -> {"pos","expires"})
ARGV[1]  now_ms
ARGV[2]  cooldown ms between batches (0 = none)
ARGV[3]  batches allowed per day
ARGV[4]  today (e.g. "20261123")
ARGV[5..] pairs: code hash, JSON
Returns {1} sent; {2, wait_ms} cooling down; {3} daily limit reached; {4} no such user
]]
local now, cooldown, cap, today = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local user_key, sms_key = KEYS[1], KEYS[2]
if redis.call('EXISTS', user_key) == 0 then return {4} end
local state = redis.call('HMGET', user_key, 'sms_sent_at', 'sms_day', 'sms_day_count')
local sent_at = tonumber(state[1] or '0')
if cooldown > 0 and now - sent_at < cooldown then return {2, cooldown - (now - sent_at)} end
local count = 0
if state[2] == today then count = tonumber(state[3] or '0') end
if count >= cap then return {3} end
redis.call('DEL', sms_key)
for i = 5, #ARGV, 2 do
  redis.call('HSET', sms_key, ARGV[i], ARGV[i + 1])
end
redis.call('HSET', user_key, 'sms_sent_at', now, 'sms_day', today, 'sms_day_count', count + 1)
return {1}
