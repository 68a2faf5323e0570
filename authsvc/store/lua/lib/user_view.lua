--[[ user_view: the digest of everything a passcode decision computed in Python depends on.

A process keeps, per user, what it last loaded (the record, the token copies, the Duo Mobile
passcode states, the group ids) with this digest, and computes the next attempt's matches from
that copy without reading Redis first. The decision script recomputes the digest from the
current state and refuses (changing nothing) when it differs, so a decision is only ever
committed from a copy equal to the state it is committed on: the same guarantee as a fresh load,
whoever changed what in between (another process, an administrator, a plain command).

Covered: the user's username, aliases, email (who the attempt names and logs), status and
locked_at (the status gate Python applies before any HMAC work), groups_v (the group-imposed
status), every token copy and Duo Mobile state (counters, resync state, seeds), the group ids.
Not covered, because Python does not read them for a passcode: fails, attempt_seq, last_login,
counted, the bypass and SMS hashes (their matches are keyed hashes the script looks up), security
keys. Order-independent: hash fields and set members are sorted before hashing.

The digest is two SHA-1s, 80 hex chars: who the user is (the fields above and the group ids),
then the counters (the token copies and the Duo Mobile states). A copy whose first half is
current but whose counters moved (another process accepted a code) is still good enough to
accept a code whose match the script re-checks against the current counters
(passcode_attempt.lua's catching-up mode); anything else it decides from a current copy only.

view_digest(user_values, tokens_flat, mobile_flat, group_ids) -> 80 hex chars
user_view(user_key, tokens_key, mobile_key, groups_key) -> the digest of the current state, and
  the token copies (lib/token_copies.lua; `tokens_key`: older versions' hash of them, false
  when the caller moved it already) and the Duo Mobile hash it read (flat {id, JSON, ...})
view_of(user_key, user_flat, tokens_key, mobile_key, groups_key) -> the same, and the group
  ids, from the user hash's HGETALL (`user_flat`), read by the caller
IDENTITY_CHARS: the length of the first half
]]
--#include token_copies
local VIEW_FIELDS = {'username', 'aliases', 'email', 'status', 'locked_at', 'groups_v'}
local IDENTITY_CHARS = 40

local function sorted_flat(flat)
  local items = {}
  for i = 1, #flat, 2 do items[#items + 1] = flat[i] .. '\1' .. flat[i + 1] end
  table.sort(items)
  return table.concat(items, '\2')
end

local function view_digest(user_values, tokens_flat, mobile_flat, group_ids)
  local fields = {}
  for i = 1, #VIEW_FIELDS do fields[i] = user_values[i] or '' end
  local groups = {}
  for i = 1, #group_ids do groups[i] = group_ids[i] end
  table.sort(groups)
  return redis.sha1hex(table.concat(fields, '\1') .. '\3' .. table.concat(groups, '\1'))
         .. redis.sha1hex(sorted_flat(tokens_flat) .. '\3' .. sorted_flat(mobile_flat))
end

local function view_of(user_key, user_flat, tokens_key, mobile_key, groups_key)
  local record, values = {}, {}
  for i = 1, #user_flat, 2 do record[user_flat[i]] = user_flat[i + 1] end
  for i = 1, #VIEW_FIELDS do values[i] = record[VIEW_FIELDS[i]] or false end
  local tokens = token_copies(user_key, tokens_key, user_flat)
  local mobile = redis.call('HGETALL', mobile_key)
  local groups = redis.call('SMEMBERS', groups_key)
  return view_digest(values, tokens, mobile, groups), tokens, mobile, groups
end

local function user_view(user_key, tokens_key, mobile_key, groups_key)
  local digest, tokens, mobile = view_of(user_key, redis.call('HGETALL', user_key), tokens_key,
                                         mobile_key, groups_key)
  return digest, tokens, mobile
end
