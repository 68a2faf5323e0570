--[[ bypass_delete: delete one bypass code of a user by its id.

KEYS[1]  user's bypass HASH (code hash -> JSON metadata with "id")
ARGV[1]  bypass code id
Returns 1 if deleted, 0 if the user holds no such code.
]]
local entries = redis.call('HGETALL', KEYS[1])
for i = 1, #entries, 2 do
  if cjson.decode(entries[i + 1]).id == ARGV[1] then
    redis.call('HDEL', KEYS[1], entries[i])
    return 1
  end
end
return 0
