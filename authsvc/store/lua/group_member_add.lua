--[[ group_member_add: list a user among a group's members, unless the group is gone.

The user's own set (user_groups.lua) is written after this succeeds; a group deleted meanwhile
gets no new member.

KEYS[1]  group HASH
KEYS[2]  group's members ZSET (user id scored by joining time)
ARGV[1]  user id
ARGV[2]  now_ms
Returns 1 listed (or already a member); 0 no such group
]]
local user_id, now = ARGV[1], tonumber(ARGV[2])
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('ZADD', KEYS[2], 'NX', now, user_id)
return 1
