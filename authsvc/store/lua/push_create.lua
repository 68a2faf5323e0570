--[[ push_create: start one push for a user, unless the user's state or push-fatigue limits
forbid it (decided atomically, so racing requests cannot exceed the limits).

KEYS[1]  user HASH             (status, locked_at, push_streak, push_streak_at)
KEYS[2]  user's pushes ZSET    (outstanding txids scored by expiry ms)
KEYS[3]  the push HASH         (must already exist in state "prepared" when ARGV[8] is "1")
KEYS[4..10] the counting keys (lib/user_counts.lua), for a lockout lifted on expiry
ARGV[1]  now_ms
ARGV[2]  expires_ms of the push
ARGV[3]  lockout expiry ms (0 = only an admin unlocks)
ARGV[4]  most outstanding pushes per user
ARGV[5]  consecutive unanswered/denied pushes that start a cooldown (0 = never)
ARGV[6]  cooldown ms
ARGV[7]  txid
ARGV[8]  "1" = continue a Verified Push transaction prepared by preauth
ARGV[9]  status the user's groups impose: "" | "bypass" | "disabled"  (lib/status_gate.lua)
ARGV[10] the user's membership version those groups were read at ("" = not checked)
ARGV[11..] field, value pairs of the push
A verification push (field kind "verification") skips the status gate (see below).
Returns {1, digits} created (digits: the Verified Push code's, 0 without);
        {4} locked out; {5} disabled; {6} bypass; {7} no user;
        {8, outstanding} too many outstanding; {9, until_ms} cooling down; {10} no such prepared tx;
        {11} the user's groups changed since they were read (nothing done);
        {12, txid...} pushes whose time ran out are not ended yet: end them (push_resolve.lua,
        "expire": their timeouts count toward the cooldown) and call again (nothing done)
]]
local now, expires = tonumber(ARGV[1]), tonumber(ARGV[2])
local lock_expire_ms = tonumber(ARGV[3])
local max_outstanding, streak_limit = tonumber(ARGV[4]), tonumber(ARGV[5])
local cooldown_ms = tonumber(ARGV[6])
local txid, prepared = ARGV[7], ARGV[8] == '1'
local group_status, groups_v = ARGV[9], ARGV[10]
local user_key, pushes_key, push_key = KEYS[1], KEYS[2], KEYS[3]

-- A Help Desk verification push (field kind = "verification") is not an authentication: it
-- verifies the person behind a user before an admin changes something for them, typically a
-- locked-out or disabled user (seed 001), so only the user's existence (outside the Trash) is
-- checked.
local verification = false
for i = 11, #ARGV - 1, 2 do
  if ARGV[i] == 'kind' and ARGV[i + 1] == 'verification' then verification = true end
end
--#include status_gate
--#include user_counts
if verification then
  local status = redis.call('HGET', user_key, 'status')
  if not status then return {7} end
  if status == 'pending deletion' then return {5} end  -- a user in the Trash gets no push
else
  local gate, lifted = status_gate(user_key, now, lock_expire_ms, group_status, groups_v)
  if gate then return {gate} end
  if lifted then count_user(user_key, counting_keys(4)) end
end

-- The user's pushes, oldest expiry first: in the common case none has run out, and this one
-- read both finds the overdue ones and counts the outstanding ones.
local listed = redis.call('ZRANGE', pushes_key, '-inf', '+inf', 'BYSCORE', 'WITHSCORES')
local overdue, outstanding = {12}, 0
for i = 1, #listed, 2 do
  if tonumber(listed[i + 1]) <= now then overdue[#overdue + 1] = listed[i]
  else outstanding = outstanding + 1 end
end
if #overdue > 1 then return overdue end
if outstanding >= max_outstanding then return {8, outstanding} end

local streak_at = redis.call('HMGET', user_key, 'push_streak', 'push_streak_at')
local streak = tonumber(streak_at[1] or '0')
if streak_limit > 0 and streak >= streak_limit then
  local until_ms = tonumber(streak_at[2] or '0') + cooldown_ms
  if now < until_ms then return {9, until_ms} end
  redis.call('HSET', user_key, 'push_streak', 0)
end

local digits = 0
if prepared then
  -- A Verified Push transaction works until the expiration preauth announced, not until Redis
  -- drops the hash (that is later, by the index grace).
  local ready = redis.call('HMGET', push_key, 'state', 'prepared_until', 'digits')
  if ready[1] ~= 'prepared' or now >= tonumber(ready[2] or '0') then return {10} end
  digits = tonumber(ready[3] or '0')
elseif redis.call('EXISTS', push_key) == 1 then
  return {10}
end
redis.call('HSET', push_key, 'state', 'pending', 'seq', 1, 'polled_seq', 0, 'tries', 0,
           'created_ms', now, 'expires_ms', expires, unpack(ARGV, 11))
redis.call('PEXPIREAT', push_key, expires + 600000)
redis.call('ZADD', pushes_key, expires, txid)
return {1, digits}
