--[[ push_resolve: end a pending push exactly once: a phone's answer, or its time running out.

An answer is accepted only from the phone the push was sent to, only while pending and not
expired, and (for Verified Push) only with the right step-up code: a wrong code leaves the push
pending until the last allowed try, which denies it. Every end wakes the waiters of every
process (PUBLISH) and updates the user's push-fatigue streak.

KEYS[1]  the push HASH
KEYS[2]  user HASH           (push_streak, push_streak_at; status when fraud locks the user)
KEYS[3]  user's pushes ZSET
KEYS[4..10] the counting keys (lib/user_counts.lua): an approval is the user's last login, a
         fraud report may lock the user out
KEYS[11] (a phone's answer only) the answer's signature STRING: set for 600 s the first time,
         so a replayed answer is refused before anything else (the replay guard other device
         calls keep outside any slot, kept here to save the answer a command)
ARGV[1]  now_ms
ARGV[2]  operation: "approve" | "deny" | "fraud" | "expire" | "answered" (a call was picked up:
         still pending, but its status changes)
ARGV[3]  answering phone id ("" for expire)
ARGV[4]  keyed hash of the step-up code sent ("" = none)
ARGV[5]  tries allowed for the step-up code
ARGV[6]  "1" = a fraud report also locks the user out
ARGV[7]  events channel
ARGV[8]  txid
ARGV[9]  reason of a deny ("" = user_cancelled)
ARGV[10] the urgid the phone answered ("" = not checked: expiry, a call's carrier)
Returns {1, state, reason, kind, phone_id, facts}
                               ended in state (approved, denied, fraud, timeout), with what the
                               log record of the end needs (no second read)
        {2, state}             not pending (already ended, unknown, or another phone's push)
        {3, tries_left}        wrong step-up code, still pending
        {4}                    marked answered, still pending
        {5}                    the answer's signature was already used: nothing changed
]]
local now, op, phone = tonumber(ARGV[1]), ARGV[2], ARGV[3]
local code_hash, max_tries, fraud_locks = ARGV[4], tonumber(ARGV[5]), ARGV[6] == '1'
local channel, txid, deny_reason, urgid = ARGV[7], ARGV[8], ARGV[9], ARGV[10]
local push_key, user_key, pushes_key = KEYS[1], KEYS[2], KEYS[3]
--#include user_counts

if KEYS[11] and not redis.call('SET', KEYS[11], '1', 'NX', 'EX', 600) then return {5} end

local push = redis.call('HMGET', push_key, 'state', 'phone_id', 'expires_ms', 'code_hash', 'tries',
                       'seq', 'urgid', 'kind', 'facts')
local state, expires, seq = push[1], tonumber(push[3] or '0'), tonumber(push[6] or '0')
if state ~= 'pending' then
  -- an expiry asked for a push that is gone (its hash outlived by its ZSET entry): forget it,
  -- or push_create.lua would name it overdue forever
  if op == 'expire' then redis.call('ZREM', pushes_key, txid) end
  return {2, state or 'unknown'}
end

local function finish(new_state, reason)
  redis.call('HSET', push_key, 'state', new_state, 'reason', reason, 'answered_ms', now,
             'seq', seq + 1)
  redis.call('ZREM', pushes_key, txid)
  local exists = redis.call('EXISTS', user_key) == 1
  if new_state == 'approved' and exists then
    redis.call('HSET', user_key, 'push_streak', 0, 'last_login', math.floor(now / 1000))
  elseif exists then
    redis.call('HINCRBY', user_key, 'push_streak', 1)
    redis.call('HSET', user_key, 'push_streak_at', now)
  end
  if new_state == 'approved' and exists then
    count_login(user_key, counting_keys(4), math.floor(now / 1000))
  elseif new_state == 'fraud' and fraud_locks and exists
      and redis.call('HGET', user_key, 'status') ~= 'pending deletion' then
    redis.call('HSET', user_key, 'status', 'locked out', 'lockout_reason', 'Fraud reported',
               'locked_at', now)
    count_user(user_key, counting_keys(4))
  end
  redis.call('PUBLISH', channel, 'tx:' .. txid)
  return {1, new_state, reason, push[8] or '', push[2] or '', push[9] or ''}
end

if now >= expires then return finish('timeout', 'no_response') end
if op == 'expire' then return {2, state} end
if phone ~= push[2] or (urgid ~= '' and urgid ~= push[7]) then return {2, 'not_yours'} end
if op == 'answered' then
  redis.call('HSET', push_key, 'answered', 1, 'seq', seq + 1)
  redis.call('PUBLISH', channel, 'tx:' .. txid)
  return {4}
end
if op == 'deny' then
  return finish('denied', deny_reason ~= '' and deny_reason or 'user_cancelled')
end
if op == 'fraud' then return finish('fraud', 'user_marked_fraud') end

local stored = push[4] or ''
if stored ~= '' and stored ~= code_hash then
  local tries = redis.call('HINCRBY', push_key, 'tries', 1)
  if tries >= max_tries then return finish('denied', 'verification_code_incorrect') end
  return {3, max_tries - tries}
end
return finish('approved', 'user_approved')
