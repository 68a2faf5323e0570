--[[ admin_change: change or delete an administrator, never leaving the account without an
Owner (pending, active or locked: any Owner who is not disabled counts).

KEYS[1]  the admin HASH        (role, status, email)
KEYS[2]  Owners SET (role owner, not disabled)
KEYS[3]  email index HASH      (lowercased email -> admin id)
KEYS[4]  admins listing ZSET
ARGV[1]  admin id
ARGV[2]  operation: "update" | "delete"
ARGV[3]  new role ("" = unchanged)
ARGV[4]  new status ("" = unchanged)
ARGV[5..] field, value pairs to set as well (update only)
Returns {1} done; {2} the admin does not exist; {3} refused: it would leave no Owner
]]
local admin_key, owners_key, emails_key, list_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local admin_id, op, new_role, new_status = ARGV[1], ARGV[2], ARGV[3], ARGV[4]

local current = redis.call('HMGET', admin_key, 'role', 'status', 'email')
if not current[1] then return {2} end
local role = new_role ~= '' and new_role or current[1]
local status = new_status ~= '' and new_status or current[2]
local stays_owner = op == 'update' and role == 'owner' and status ~= 'disabled'
local is_owner = redis.call('SISMEMBER', owners_key, admin_id) == 1
if is_owner and not stays_owner and redis.call('SCARD', owners_key) <= 1 then return {3} end

if op == 'delete' then
  redis.call('DEL', admin_key)
  redis.call('HDEL', emails_key, string.lower(current[3] or ''))
  redis.call('ZREM', list_key, admin_id)
  redis.call('SREM', owners_key, admin_id)
  return {1}
end
redis.call('HSET', admin_key, 'role', role, 'status', status, unpack(ARGV, 5))
if stays_owner then
  redis.call('SADD', owners_key, admin_id)
else
  redis.call('SREM', owners_key, admin_id)
end
return {1}
