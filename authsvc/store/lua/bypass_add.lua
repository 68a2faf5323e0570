--[[ bypass_add: store new bypass codes for one user, all or nothing.

Expired and used-up codes are not live and are pruned first. Unless preserving, the user's
existing codes are replaced. Adding fails, changing nothing, when the user would hold more than
the live-code limit or when a new code equals one the user already holds (or repeats in the batch).

KEYS[1]  user HASH (must exist)
KEYS[2]  user's bypass HASH (code hash -> JSON metadata with "id" and "expires" ms, 0 = never)
ARGV[1]  now_ms
ARGV[2]  "1" = preserve existing codes, "0" = replace them
ARGV[3]  live-code limit per user
ARGV[4..] pairs: code hash, JSON metadata
Returns
  {1, removed ids...}  stored; removed = ids of codes pruned or replaced (for the global index)
  {2, live}            over the limit (live = codes the user would keep)
  {3}                  a code repeats an existing one or another in the batch
  {4}                  no such user
]]
local now = tonumber(ARGV[1])
local preserve = ARGV[2] == '1'
local limit = tonumber(ARGV[3])
if redis.call('EXISTS', KEYS[1]) == 0 then return {4} end

local removed, kept = {}, {}
local existing = redis.call('HGETALL', KEYS[2])
for i = 1, #existing, 2 do
  local meta = cjson.decode(existing[i + 1])
  if (not preserve) or (meta.expires > 0 and meta.expires <= now) then
    removed[#removed + 1] = {existing[i], meta.id}
  else
    kept[existing[i]] = true
  end
end
local live = 0
for _ in pairs(kept) do live = live + 1 end
local new_count = (#ARGV - 3) / 2
if live + new_count > limit then return {2, live} end

local seen = {}
for i = 4, #ARGV, 2 do
  if kept[ARGV[i]] or seen[ARGV[i]] then return {3} end
  seen[ARGV[i]] = true
end
local reply = {1}
for _, pair in ipairs(removed) do
  redis.call('HDEL', KEYS[2], pair[1])
  reply[#reply + 1] = pair[2]
end
for i = 4, #ARGV, 2 do
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
end
return reply
