--[[ token_copies: a user's copy of each token it holds is a field of the user hash,
't:<token id>' -> the copy's JSON (~64 B a user, where a hash of their own cost ~170 B).
Versions before kept the copies in a hash of their own (the user's tokens HASH, still passed to
every script that reads or writes copies): readers merge both (the user hash wins), writers
first move what the old hash holds into the user hash.

COPY_PREFIX
token_copies(user_key, old_key, fields) -> flat {token id, copy JSON, ...}; `fields`: the user
  hash's HGETALL when the caller read it already; `old_key` false: known to be gone (moved)
token_copy_count(user_key, old_key) -> how many tokens the user holds
adopt_token_copies(user_key, old_key): move the old hash's copies into the user hash (nothing
  when the user hash does not exist: a deleted user is not brought back)
]]
local COPY_PREFIX = 't:'

local function token_copies(user_key, old_key, fields)
  local flat, seen = {}, {}
  fields = fields or redis.call('HGETALL', user_key)
  for i = 1, #fields, 2 do
    if string.sub(fields[i], 1, 2) == COPY_PREFIX then
      local id = string.sub(fields[i], 3)
      seen[id] = true
      flat[#flat + 1] = id
      flat[#flat + 1] = fields[i + 1]
    end
  end
  local old = old_key and redis.call('HGETALL', old_key) or {}
  for i = 1, #old, 2 do
    if not seen[old[i]] then
      flat[#flat + 1] = old[i]
      flat[#flat + 1] = old[i + 1]
    end
  end
  return flat
end

local function token_copy_count(user_key, old_key)
  return #token_copies(user_key, old_key) / 2
end

local function adopt_token_copies(user_key, old_key)
  if redis.call('EXISTS', old_key) == 0 then return end
  if redis.call('EXISTS', user_key) == 1 then
    local old = redis.call('HGETALL', old_key)
    for i = 1, #old, 2 do redis.call('HSETNX', user_key, COPY_PREFIX .. old[i], old[i + 1]) end
  end
  redis.call('DEL', old_key)
end
