--[[ hash_take: remove one field from a hash and return its value, atomically.

Used to move a token record between its owner's hash and the unassigned hash: whoever takes the
record owns the only copy, so no concurrent passcode can commit to a copy that is being moved.

KEYS[1]  HASH
ARGV[1]  field
Returns the value, or false (nil) when the field is absent.
]]
local value = redis.call('HGET', KEYS[1], ARGV[1])
if value then redis.call('HDEL', KEYS[1], ARGV[1]) end
return value
