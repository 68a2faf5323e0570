--[[ admin_unit_delete: delete an Administrative Unit, its name and its member sets; its
administrators are no longer restricted by it from their next request on.

KEYS[1]  the unit HASH
KEYS[2]  unit names HASH
KEYS[3]  units listing ZSET
KEYS[4]  the unit's admins SET
KEYS[5]  the unit's groups SET
KEYS[6]  the unit's integrations SET
ARGV[1]  unit id
Returns {1, name} deleted; {0} no such unit
]]
local unit_key, names_key, list_key = KEYS[1], KEYS[2], KEYS[3]
local unit_id = ARGV[1]
local f = redis.call('HMGET', unit_key, 'name', 'name_key')
if not f[1] then return {0} end
if f[2] and redis.call('HGET', names_key, f[2]) == unit_id then
  redis.call('HDEL', names_key, f[2])
end
redis.call('DEL', unit_key, KEYS[4], KEYS[5], KEYS[6])
redis.call('ZREM', list_key, unit_id)
return {1, f[1]}
