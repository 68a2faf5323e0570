--[[ user_restore: take a user out of the Trash. It keeps every device and comes back Disabled
(seed 001: "does not restore user account status from Disabled to Active").

KEYS[1]     user HASH
KEYS[2..8]  the counting keys (lib/user_counts.lua)
Returns 1 restored; 0 no such user; 2 not in the Trash (nothing changed).
]]
local user_key = KEYS[1]
--#include user_counts
local status = redis.call('HGET', user_key, 'status')
if not status then return 0 end
if status ~= 'pending deletion' then return 2 end
redis.call('HSET', user_key, 'status', 'disabled')
redis.call('HDEL', user_key, 'trashed_at', 'trash_reason')
count_user(user_key, counting_keys(2))
return 1
