--[[ zset_append: append members to a listing in creation order, ties broken by arrival.

Scores are milliseconds, but two objects created in the same millisecond (or by processes whose
clocks differ slightly) must still list in the order they were created, so each new score is
max(now_ms, highest score + 1).

KEYS[1]  ZSET (a listing: users, tokens, bypass codes, integrations)
ARGV[1]  now_ms
ARGV[2..] members, in creation order
Returns the score of the last member.
]]
local score = tonumber(ARGV[1])
local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if top[2] and tonumber(top[2]) >= score then score = tonumber(top[2]) + 1 end
for i = 2, #ARGV do
  redis.call('ZADD', KEYS[1], score, ARGV[i])
  if i < #ARGV then score = score + 1 end
end
return score
