--[[ unenrolled_lock: lock out a user who has enrolled nothing by the deadline ("Not enrolled").

Checked and written in one call, so a device added meanwhile (by an admin, the enrollment portal
or an activation) either comes first and the user stays active, or comes after the lockout.

KEYS[1]  user HASH
KEYS[2]  the user's phones ZSET
KEYS[3]  the user's tokens HASH of older versions (lib/token_copies.lua)
KEYS[4]  the user's bypass codes HASH
KEYS[5]  the user's security keys HASH (WebAuthn and U2F)
KEYS[6..12] the counting keys (lib/user_counts.lua)
ARGV[1]  now_ms
ARGV[2]  deadline: the user must have been created at or before this (seconds)
Returns 1 if the user is now locked out; 0 if not (no such user, not active, too recent, or
holding a phone, a token, a bypass code or a security key).
]]
local user_key = KEYS[1]
--#include user_counts
if redis.call('HGET', user_key, 'status') ~= 'active' then return 0 end
if tonumber(redis.call('HGET', user_key, 'created') or '0') > tonumber(ARGV[2]) then return 0 end
if redis.call('ZCARD', KEYS[2]) > 0 or token_copy_count(user_key, KEYS[3]) > 0
    or redis.call('HLEN', KEYS[4]) > 0 or redis.call('HLEN', KEYS[5]) > 0 then
  return 0
end
redis.call('HSET', user_key, 'status', 'locked out', 'lockout_reason', 'Not enrolled',
           'locked_at', ARGV[1])
count_user(user_key, counting_keys(6))
return 1
