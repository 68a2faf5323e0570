--[[ admin_unit_save: create or change an Administrative Unit in one call: its name stays
unique, and every administrator it lists exists and is not an Owner (Owners are never
restricted).

KEYS[1]   the unit HASH
KEYS[2]   unit names HASH (lowercased name -> unit id)
KEYS[3]   units listing ZSET
KEYS[4]   the unit's admins SET
KEYS[5]   the unit's groups SET
KEYS[6]   the unit's integrations SET
KEYS[7..] the HASH of each administrator the new admins list names, in its order
ARGV[1]   operation: "create" | "update"
ARGV[2]   unit id
ARGV[3]   now_ms (the listing score on create)
ARGV[4]   the new name lowercased ("" = name unchanged)
ARGV[5]   n: field, value pairs to set follow (ARGV[6 .. 5+2n])
then, for admins, groups and integrations in turn: a count (-1 = list unchanged) and the ids
Returns {1} done; {2} the name belongs to another unit; {3} no such unit (update);
        {4, admin id} no such administrator; {5, admin id} the administrator is an Owner
]]
local unit_key, names_key, list_key = KEYS[1], KEYS[2], KEYS[3]
local op, unit_id, now, name_key = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local n = tonumber(ARGV[5])

if op == 'update' and redis.call('EXISTS', unit_key) == 0 then return {3} end
local fields = {}
for i = 6, 5 + 2 * n do fields[#fields + 1] = ARGV[i] end
local pos, lists, member_keys = 6 + 2 * n, {}, {KEYS[4], KEYS[5], KEYS[6]}
for kind = 1, 3 do
  local count = tonumber(ARGV[pos])
  pos = pos + 1
  if count >= 0 then
    lists[kind] = {}
    for i = 1, count do lists[kind][i] = ARGV[pos + i - 1] end
    pos = pos + count
  end
end
for i, admin_id in ipairs(lists[1] or {}) do
  local role = redis.call('HGET', KEYS[6 + i], 'role')
  if not role then return {4, admin_id} end
  if role == 'owner' then return {5, admin_id} end
end
if name_key ~= '' then
  local holder = redis.call('HGET', names_key, name_key)
  if holder and holder ~= unit_id then return {2} end
  local old = redis.call('HGET', unit_key, 'name_key')
  if old and old ~= name_key then redis.call('HDEL', names_key, old) end
  redis.call('HSET', names_key, name_key, unit_id)
  fields[#fields + 1] = 'name_key'
  fields[#fields + 1] = name_key
end

if op == 'create' then
  local score = now
  local top = redis.call('ZRANGE', list_key, -1, -1, 'WITHSCORES')
  if top[2] and tonumber(top[2]) >= score then score = tonumber(top[2]) + 1 end
  redis.call('ZADD', list_key, score, unit_id)
end
if #fields > 0 then redis.call('HSET', unit_key, unpack(fields)) end
for kind = 1, 3 do
  if lists[kind] then
    redis.call('DEL', member_keys[kind])
    for _, id in ipairs(lists[kind]) do redis.call('SADD', member_keys[kind], id) end
  end
end
return {1}
