--[[ user_seen: a user in Bypass status was let through without a factor; that is its last
login (so inactive-user expiration does not send to the Trash a user who logs in every day).

KEYS[1]     user HASH
KEYS[2..8]  the counting keys (lib/user_counts.lua)
ARGV[1]     now_ms
Returns 1 recorded; 0 no such user, or no longer in Bypass status.
]]
local user_key = KEYS[1]
--#include user_counts
if redis.call('HGET', user_key, 'status') ~= 'bypass' then return 0 end
redis.call('HSET', user_key, 'last_login', math.floor(tonumber(ARGV[1]) / 1000))
count_user(user_key, counting_keys(2))
return 1
