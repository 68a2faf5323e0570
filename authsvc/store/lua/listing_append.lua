--[[ listing_append: give a member the next place of a creation-ordered listing
(store/listing.py) and add it to the bucket of that place, scored after every member before it.

Scores are milliseconds, but two objects created in the same millisecond (or by processes whose
clocks differ slightly) must still list in the order they were created, so each score is
max(now_ms, the listing's highest score + 1). Places and scores grow together, so the buckets
in place order are in score order too, and a listing started beside an older version's single
sorted set (the legacy set) scores after all of it.

KEYS[1]  the legacy ZSET
KEYS[2]  meta HASH (seq: the last place handed out, top: the highest score)
KEYS[3]  counts STRING (byte n: members of bucket n)
KEYS[4]  the bucket the caller expects the next place in
ARGV[1]  now_ms
ARGV[2]  that bucket's number
ARGV[3]  places per bucket
ARGV[4]  member (new to the listing)
Returns {1, place}; {0, place} when the next place is in another bucket (nothing written: call
again with that one).
]]
local size, number = tonumber(ARGV[3]), tonumber(ARGV[2])
local meta = redis.call('HMGET', KEYS[2], 'seq', 'top')
local place = tonumber(meta[1] or '-1') + 1
if math.floor(place / size) ~= number then return {0, place} end
local top = tonumber(meta[2] or '')
if not top then
  local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
  top = tonumber(last[2] or '')
end
local score = tonumber(ARGV[1])
if top and top >= score then score = top + 1 end
redis.call('HSET', KEYS[2], 'seq', place, 'top', score)
if redis.call('ZADD', KEYS[4], 'NX', score, ARGV[4]) == 1 then
  redis.call('BITFIELD', KEYS[3], 'INCRBY', 'u8', '#' .. number, 1)
end
return {1, place}
