--[[ hash_set_existing: set fields of a hash only if the hash still exists.

An admin update racing a delete must not resurrect a half record.

KEYS[1]  HASH
ARGV     field, value pairs
Returns 1 if set, 0 if the hash does not exist.
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
