--[[ token_take: take a hardware token away from one of its holders: remove the holder's copy of
the record and return it (so its counter can be folded into the token's own record), counted
in the same call (a user left without devices becomes "Not enrolled").

KEYS[1]     user HASH
KEYS[2..8]  the counting keys (lib/user_counts.lua); the user's tokens HASH of older versions is
            KEYS[3] (its copies move into the user hash first: lib/token_copies.lua)
ARGV[1]     token id
Returns the copy's JSON, or false (nil) when the user holds no copy of this token.
]]
local user_key, token_id = KEYS[1], ARGV[1]
--#include user_counts
local ck = counting_keys(2)
adopt_token_copies(user_key, ck.tokens)
local copy = redis.call('HGET', user_key, COPY_PREFIX .. token_id)
if not copy then return false end
redis.call('HDEL', user_key, COPY_PREFIX .. token_id)
count_user(user_key, ck)
return copy
