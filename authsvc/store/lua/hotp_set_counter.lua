--[[ hotp_set_counter: move an HOTP token's next-expected counter forward (manual resync).

The counter never moves backwards: a code already accepted must stay unusable.

KEYS[1]  HASH holding the token record (owner's token hash or the unassigned hash)
ARGV[1]  token id
ARGV[2]  new next-expected counter
Returns 1 moved forward, 2 already at or past it (unchanged), 0 no such token.
]]
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
local token = cjson.decode(raw)
local counter = tonumber(ARGV[2])
if counter <= token.counter then return 2 end
token.counter = counter
token.rs_n = 0
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(token))
return 1
