--[[ status_gate(user_key, now, lock_expire_ms, group_status, groups_v): what the user's status,
and the status their groups impose, decide before any factor.

group_status is what Python computed from the user's group records (model/groups.py): '' (no
group decides), 'bypass' or 'disabled'. groups_v is the user's membership version that
computation read ('' = not checked). Group records live in other slots, so this script cannot
read them; instead every membership change and every change to a group that decides something
increments the members' groups_v (user_groups.lua), and a decision computed from anything older
is refused here as stale before it changes anything (the caller reloads and decides again).

Precedence (model/groups.py): a disabled group, then a bypass group, then the user's own status.

Returns nil when the user may go on, else the reply code the calling script returns at once:
7 no such user, 11 stale groups, 5 disabled or in the Trash ("pending deletion"), 6 bypass,
4 locked out. A user in the Trash is refused before any group decision: a bypass group must not
let a deleted user in. A lockout older than lock_expire_ms (0 = never expires) is lifted here, so
the attempt that finds it expired goes on; then the second value is true, and the caller must
count_user.
Pasted into the scripts that decide an attempt by their include line (store/scripts.py).
]]
local function status_gate(user_key, now, lock_expire_ms, group_status, groups_v)
  local state = redis.call('HMGET', user_key, 'status', 'groups_v')
  local status = state[1]
  if not status then return 7 end
  if groups_v ~= '' and (state[2] or '0') ~= groups_v then return 11 end
  if status == 'pending deletion' then return 5 end
  if group_status == 'disabled' then return 5 end
  if group_status == 'bypass' then return 6 end
  if status == 'disabled' then return 5 end
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
