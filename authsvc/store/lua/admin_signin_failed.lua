--[[ admin_signin_failed: count one failed sign-in of an administrator; at the threshold the
account is locked (an Owner resets it). The last Owner is locked too: a locked Owner
stays an Owner for the invariant and is unlocked by `authsvc admin reset` on the host.

KEYS[1]  the admin HASH (fails, status)
ARGV[1]  lockout threshold
Returns {fails, locked (0|1)}; {-1} when the admin does not exist
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1} end
local fails = redis.call('HINCRBY', KEYS[1], 'fails', 1)
local threshold = tonumber(ARGV[1])
if fails >= threshold and redis.call('HGET', KEYS[1], 'status') == 'active' then
  redis.call('HSET', KEYS[1], 'status', 'locked')
  return {fails, 1}
end
return {fails, 0}
