--[[ push_deliver: put a created push in its phone's inbox and wake the phone's long polls.

The inbox holds what the phone's transactions listing returns, rendered when the push was
created, so that a listing is one read of the phone's slot and never reads the pushes (which
live in their users' slots). An entry leaves the inbox when the phone answers it, or when a
listing finds it expired (and ends the push as timed out). The inbox itself expires a grace
period after its latest push, so a phone that stops polling leaves nothing behind.

KEYS[1]  the phone's inbox HASH   (urgid -> entry JSON: expiry, owner, transaction)
ARGV[1]  urgid
ARGV[2]  entry JSON
ARGV[3]  the inbox's expiry, unix ms (the push's expiry + the index grace)
ARGV[4]  events channel
ARGV[5]  phone id (the message ``phone:<id>\n<urgid>\n<entry>`` wakes its long polls in every
         process and hands them the entry, so that they need not read the inbox again)
Returns 1
]]
local inbox, urgid, entry = KEYS[1], ARGV[1], ARGV[2]
local expire_at, channel, phone = tonumber(ARGV[3]), ARGV[4], ARGV[5]

redis.call('HSET', inbox, urgid, entry)
if redis.call('PEXPIRETIME', inbox) < expire_at then  -- -1 (none yet) included (Redis >= 7.0)
  redis.call('PEXPIREAT', inbox, expire_at)
end
redis.call('PUBLISH', channel, 'phone:' .. phone .. '\n' .. urgid .. '\n' .. entry)
return 1
