--[[ status_gate(user_key, now, lock_expire_ms): what the user's status decides before any factor.
Returns nil when the user may go on, else the reply code the calling script returns at once:
7 no such user, 5 disabled or in the Trash ("pending deletion"), 6 bypass, 4 locked out. A
lockout older than lock_expire_ms (0 = never expires) is lifted here, so the attempt that finds
it expired goes on; then the second value is true, and the caller must count_user.
Pasted into the scripts that decide an attempt by their include line (store/scripts.py).
]]
local function status_gate(user_key, now, lock_expire_ms)
  local status = redis.call('HGET', user_key, 'status')
  if not status then return 7 end
  if status == 'disabled' or status == 'pending deletion' then return 5 end
  if status == 'bypass' then return 6 end
  if status == 'locked out' then
    local locked_at = tonumber(redis.call('HGET', user_key, 'locked_at') or '0')
    if lock_expire_ms > 0 and locked_at + lock_expire_ms <= now then
      redis.call('HSET', user_key, 'status', 'active', 'fails', 0, 'lockout_reason', '', 'locked_at', 0)
      return nil, true
    end
    return 4
  end
  return nil, false
end
