--[[ user_create: store a new user's record and count it, in one call.

KEYS[1]     user HASH
KEYS[2..8]  the counting keys (lib/user_counts.lua)
ARGV        field, value pairs of the record
Returns 1 created; 0 a record with this id exists already (nothing written).
]]
local user_key = KEYS[1]
--#include user_counts
if redis.call('EXISTS', user_key) == 1 then return 0 end
redis.call('HSET', user_key, unpack(ARGV))
count_user(user_key, counting_keys(2))
return 1
