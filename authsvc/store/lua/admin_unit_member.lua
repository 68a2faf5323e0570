--[[ admin_unit_member: put one member in an Administrative Unit or take it out, unless the
unit is gone; an administrator added must exist and not be an Owner.

KEYS[1]  the unit HASH
KEYS[2]  the unit's SET of members of this kind
KEYS[3]  the administrator's HASH (only when ARGV[3] is "1")
ARGV[1]  operation: "add" | "remove"
ARGV[2]  member id
ARGV[3]  "1" the member is an administrator (check KEYS[3]), else "0"
Returns {1, changed (1/0)} done; {0} no such unit; {4} no such administrator;
        {5} the administrator is an Owner
]]
local unit_key, set_key = KEYS[1], KEYS[2]
local op, member, is_admin = ARGV[1], ARGV[2], ARGV[3] == '1'
if redis.call('EXISTS', unit_key) == 0 then return {0} end
if op == 'remove' then return {1, redis.call('SREM', set_key, member)} end
if is_admin then
  local role = redis.call('HGET', KEYS[3], 'role')
  if not role then return {4} end
  if role == 'owner' then return {5} end
end
return {1, redis.call('SADD', set_key, member)}
