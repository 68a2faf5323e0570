--[[ user_purge: delete a user for good: its record and every key of its slot, after taking it
out of its slot's counters, in one call. Decided here, so a restore racing the Trash sweep
either comes first (the user stays) or finds nothing to restore.

What lives in other slots (names, phone attachments, token holders, key and code indexes, group
member lists) is
cleaned up by the caller with the ids returned; a crash before that leaves index entries naming
a user that does not exist, which readers treat as absent.

KEYS[1]     user HASH
KEYS[2]     user's bypass HASH
KEYS[3]     user's Duo Mobile passcode HASH
KEYS[4]     user's outstanding pushes ZSET
KEYS[5]     user's SMS passcode HASH
KEYS[6..12] the counting keys (lib/user_counts.lua): phones, tokens and security keys first
KEYS[13]    user's groups SET (the groups' member lists, in their own slots, are the caller's)
ARGV[1]     trashed_by_ms: only a user sent to the Trash at or before this
            ("" = any user, whatever its status)
Returns {1, token id -> copy (flat: id, JSON, ...), phone ids, security key ids, bypass code ids,
        group ids, the user's place in the users listing ("": listed by an older version)}
        deleted;
        {0} no such user; {2} not in the Trash; {3, trashed_at_ms} sent there after trashed_by.
]]
local user_key, trashed_by = KEYS[1], tonumber(ARGV[1])
--#include user_counts
local ck = counting_keys(6)
local f = redis.call('HMGET', user_key, 'status', 'trashed_at')
if not f[1] then return {0} end
if trashed_by then
  if f[1] ~= 'pending deletion' then return {2} end
  local trashed_at = tonumber(f[2] or '0') or 0
  if trashed_at > trashed_by then return {3, trashed_at} end
end

local function field_of_each(key, name)
  local ids = {}
  for _, raw in ipairs(redis.call('HVALS', key)) do
    ids[#ids + 1] = tostring(cjson.decode(raw)[name])
  end
  return ids
end

local tokens = token_copies(user_key, ck.tokens)
local phones = redis.call('ZRANGE', ck.phones, 0, -1)
local security_keys = field_of_each(ck.security_keys, 'key')
local codes = field_of_each(KEYS[2], 'id')
local groups = redis.call('SMEMBERS', KEYS[13])
local place = redis.call('HGET', user_key, 'listed') or ''
count_user(user_key, ck, true)
redis.call('DEL', user_key, KEYS[2], KEYS[3], KEYS[4], KEYS[5], ck.phones, ck.tokens,
           ck.security_keys, KEYS[13])
return {1, tokens, phones, security_keys, codes, groups, place}
