--[[ user_load: everything a decision reads of one user, with the digest of it, in one atomic
read (lib/user_view.lua): the process caches the copy and the digest, and the decision script
refuses a decision computed from a copy whose digest is no longer the state's.

KEYS[1]  user HASH
KEYS[2]  user's token HASH of older versions (lib/token_copies.lua: the copies are the user
         hash's fields 't:<token id>'; read, never written here)
KEYS[3]  user's Duo Mobile passcode HASH (phone id -> state)
KEYS[4]  user's phones ZSET
KEYS[5]  user's groups SET
Returns {} when there is no such user, else
  {user flat HGETALL (the copies' fields too), token copies flat {id, JSON, ...}, mobile flat
   HGETALL, phone ids, group ids, digest}
]]
--#include user_view
local user = redis.call('HGETALL', KEYS[1])
if #user == 0 then return {} end
local digest, tokens, mobile, groups = view_of(KEYS[1], user, KEYS[2], KEYS[3], KEYS[5])
return {user, tokens, mobile, redis.call('ZRANGE', KEYS[4], 0, -1), groups, digest}
