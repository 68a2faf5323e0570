--[[ user_trash: send a user to the Trash (status "pending deletion"): it can no longer
authenticate (status_gate answers 5), keeps every device, and is counted in the Trash.

Inactive-user expiration sends a user only if it has not authenticated since the deadline:
checked here, so a login racing the expiration either comes first (the user stays) or after
(the user is in the Trash and the login is refused).

KEYS[1]     user HASH
KEYS[2..8]  the counting keys (lib/user_counts.lua)
ARGV[1]     now_ms
ARGV[2]     inactive_by_s: only if the last login (else the creation) is at or before this
            ("" = whatever the activity)
ARGV[3]     why: "admin" | "inactive" | "import" (shown in the Trash view)
Returns {1} sent; {0} no such user; {2, trashed_at_ms} already in the Trash; {3} active since
the deadline (nothing changed).
]]
local user_key, now, inactive_by, why = KEYS[1], ARGV[1], tonumber(ARGV[2]), ARGV[3]
--#include user_counts
local f = redis.call('HMGET', user_key, 'status', 'created', 'last_login', 'trashed_at')
if not f[1] then return {0} end
if f[1] == 'pending deletion' then return {2, tonumber(f[4] or '0')} end
if inactive_by then
  local seen = math.max(tonumber(f[2] or '0') or 0, tonumber(f[3] or '0') or 0)
  if seen > inactive_by then return {3} end
end
redis.call('HSET', user_key, 'status', 'pending deletion', 'trashed_at', now, 'trash_reason', why,
           'fails', 0, 'lockout_reason', '', 'locked_at', 0)
count_user(user_key, counting_keys(2))
return {1}
