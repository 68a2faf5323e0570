--[[ hotp_set_counter: move a token record's next-expected counter (HOTP, YubiKey) and last used
time step (TOTP) forward: manual resync, and folding a former holder's copy into the token's own
record so that a later holder starts past every code already accepted.

Neither ever moves backwards: a code already accepted must stay unusable.

KEYS[1]  HASH holding the token record (a holder's token hash, or the token records hash)
ARGV[1]  token id
ARGV[2]  new next-expected counter
ARGV[3]  last used time step ("" = leave it)
Returns 1 moved forward, 2 already at or past both (unchanged), 0 no such token.
]]
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
