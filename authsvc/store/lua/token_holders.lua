--[[ token_holders: add a user to, or remove one from, the holders a token record lists.

The holders live in the token's own record (a JSON array under "holders"), not in a set key of
their own: one hash field per token instead of one key per token. A record written before this
(no "holders") starts from the holders given in ARGV[4..], which the caller read from the set
older versions kept.

KEYS[1]  the token records HASH
ARGV[1]  "add" | "remove"
ARGV[2]  token id
ARGV[3]  user id
ARGV[4..] the holders of an older record (only read when the record has no "holders")
Returns 1 changed, 2 already so (unchanged), 0 no such token.
]]
local raw = redis.call('HGET', KEYS[1], ARGV[2])
if not raw then return 0 end
local token = cjson.decode(raw)
local holders = token.holders
if type(holders) ~= 'table' then
  holders = {}
  for i = 4, #ARGV do holders[#holders + 1] = ARGV[i] end
end
local kept, found = {}, false
for _, holder in ipairs(holders) do
  if holder == ARGV[3] then found = true else kept[#kept + 1] = holder end
end
if ARGV[1] == 'add' then
  if found then return 2 end
  kept[#kept + 1] = ARGV[3]
elseif not found then
  return 2
end
table.sort(kept)
-- cjson encodes an empty table as an object: write the array by hand when empty.
token.holders = kept
local encoded = cjson.encode(token)
if #kept == 0 then encoded = string.gsub(encoded, '"holders":{}', '"holders":[]') end
redis.call('HSET', KEYS[1], ARGV[2], encoded)
return 1
