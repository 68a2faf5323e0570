--[[ user_status: an administrator's status change, counted in the same call.

Leaving "locked out" also clears the failure count and the lockout. A user in the Trash keeps
"pending deletion" until it is restored (user_restore.lua): a status change cannot take it out.

KEYS[1]     user HASH
KEYS[2..8]  the counting keys (lib/user_counts.lua)
ARGV[1]     the new status (active, bypass, disabled)
Returns 1 set; 0 no such user; 2 the user is in the Trash (nothing changed).
]]
local user_key, status = KEYS[1], ARGV[1]
--#include user_counts
local current = redis.call('HGET', user_key, 'status')
if not current then return 0 end
if current == 'pending deletion' then return 2 end
if status == 'locked out' then
  redis.call('HSET', user_key, 'status', status)
else
  redis.call('HSET', user_key, 'status', status, 'fails', 0, 'lockout_reason', '', 'locked_at', 0)
end
count_user(user_key, counting_keys(2))
return 1
