--[[ user_recount: put one user in the right place in its slot's counters (count_user alone).

Run after device changes, in the same MULTI/EXEC as the commands that made them
(store/counts.py), and by the rebuild that counts users stored before counters existed.

KEYS[1]     user HASH
KEYS[2..8]  the counting keys (lib/user_counts.lua)
Returns 1 (0 when there is no such user).
]]
local user_key = KEYS[1]
--#include user_counts
if redis.call('EXISTS', user_key) == 0 then return 0 end
count_user(user_key, counting_keys(2))
return 1
