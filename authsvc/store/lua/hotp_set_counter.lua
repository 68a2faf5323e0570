--[[ hotp_set_counter: move a token record's next-expected counter (HOTP, YubiKey) and last used
time step (TOTP) forward: manual resync, and folding a former holder's copy into the token's own
record so that a later holder starts past every code already accepted.

Neither ever moves backwards: a code already accepted must stay unusable.

KEYS[1]  HASH holding the token record (the token records hash, or a holder's user hash)
KEYS[2]  a holder's: its tokens HASH of older versions, whose copies move into the user hash
         first (lib/token_copies.lua); absent for the token records hash
ARGV[1]  the record's field: the token id (token records), 't:<token id>' (a holder's copy)
ARGV[2]  new next-expected counter
ARGV[3]  last used time step ("" = leave it)
Returns 1 moved forward, 2 already at or past both (unchanged), 0 no such token.
]]
--#include token_copies
if KEYS[2] then adopt_token_copies(KEYS[1], KEYS[2]) end
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
local token = cjson.decode(raw)
local counter, step = tonumber(ARGV[2]), tonumber(ARGV[3])
local moved = false
if counter > token.counter then
  token.counter = counter
  token.rs_n = 0
  moved = true
end
if step and step > (token.last_step or -1) then
  token.last_step = step
  moved = true
end
if not moved then return 2 end
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(token))
return 1
