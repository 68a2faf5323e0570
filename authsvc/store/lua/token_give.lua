--[[ token_give: give a user its own copy of a hardware token's record (a token may have several
holders, each deciding passcodes with its own counter), counted in the same call.

KEYS[1]     user HASH
KEYS[2..8]  the counting keys (lib/user_counts.lua); the user's tokens HASH of older versions is
            KEYS[3] (its copies move into the user hash first: lib/token_copies.lua)
ARGV[1]     token id
ARGV[2]     the copy's JSON (counter: the furthest any holder has reached)
Returns 1 given; 2 the user holds a copy already (unchanged); 0 no such user (nothing written).
]]
local user_key, token_id = KEYS[1], ARGV[1]
--#include user_counts
local ck = counting_keys(2)
if redis.call('EXISTS', user_key) == 0 then return 0 end
adopt_token_copies(user_key, ck.tokens)
if redis.call('HSETNX', user_key, COPY_PREFIX .. token_id, ARGV[2]) == 0 then return 2 end
count_user(user_key, ck)
return 1
