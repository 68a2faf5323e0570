--[[ user_groups: one change to a user's group memberships, in the user's slot.

The user's set of group ids is what decisions read (with the user record, in one round trip).
`groups_v` in the user record is what the status gate (lib/status_gate.lua) compares with the
version a decision was computed at: a membership change, and every change to a group of the
user that decides something (status, factor switches, deletion: "touch"), increments it, so a
decision computed before such a change and committed after it is refused as stale.
A user deleted meanwhile is never resurrected as a half record.

KEYS[1]  user HASH            (groups_v)
KEYS[2]  user's groups SET    (group ids)
ARGV[1]  "join" | "leave" | "touch"
ARGV[2]  group id
Returns 1 done; 0 nothing done (no such user; for leave and touch: not in the group)
]]
local op, group_id = ARGV[1], ARGV[2]
local user_key, groups_key = KEYS[1], KEYS[2]

if redis.call('EXISTS', user_key) == 0 then return 0 end
if op == 'join' then
  redis.call('SADD', groups_key, group_id)
elseif op == 'leave' then
  if redis.call('SREM', groups_key, group_id) == 0 then return 0 end
elseif redis.call('SISMEMBER', groups_key, group_id) == 0 then
  return 0
end
redis.call('HINCRBY', user_key, 'groups_v', 1)
return 1
