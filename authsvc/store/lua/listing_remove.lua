--[[ listing_remove: take a member out of a creation-ordered listing (store/listing.py): out of
its bucket, and that bucket's count down by one, in one call so the counts stay exact.

KEYS[1]  the legacy ZSET (what older versions kept)
KEYS[2]  counts STRING (byte n: members of bucket n)
KEYS[3]  the member's bucket (the legacy set again when ARGV[1] is "")
ARGV[1]  the bucket's number ("": the member is in the legacy set)
ARGV[2]  member
Returns 1 removed, 0 not there.
]]
if ARGV[1] == '' then return redis.call('ZREM', KEYS[1], ARGV[2]) end
if redis.call('ZREM', KEYS[3], ARGV[2]) == 0 then return 0 end
redis.call('BITFIELD', KEYS[2], 'INCRBY', 'u8', '#' .. ARGV[1], -1)
return 1
