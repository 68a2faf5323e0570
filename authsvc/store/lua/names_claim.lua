--[[ names_claim: claim usernames/aliases for one user and release others, all or nothing.

Usernames and aliases are unique together (case-insensitive; callers lowercase them), so a
rename or alias change must never leave two users answering to one name.

KEYS[1]  username index HASH (name -> user id)
ARGV[1]  user id
ARGV[2]  number of names to release R, then R names, then the names to claim
Returns
  {1}          claimed (names already held by this user are kept)
  {0, name}    a name to claim belongs to another user; nothing changed
]]
local user_id = ARGV[1]
local releases = tonumber(ARGV[2])
local first_claim = 3 + releases

for i = first_claim, #ARGV do
  local owner = redis.call('HGET', KEYS[1], ARGV[i])
  if owner and owner ~= user_id then return {0, ARGV[i]} end
end
for i = 3, first_claim - 1 do
  if redis.call('HGET', KEYS[1], ARGV[i]) == user_id then redis.call('HDEL', KEYS[1], ARGV[i]) end
end
for i = first_claim, #ARGV do
  redis.call('HSET', KEYS[1], ARGV[i], user_id)
end
return {1}
