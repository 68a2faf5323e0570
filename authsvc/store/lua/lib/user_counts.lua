--[[ user_counts: keep one user's place in the counters of its hash slot exact.

Every script that creates, trashes, restores, deletes or locks a user, changes its status, its
devices or its last login ends with count_user. The user hash remembers in `counted` what the
user is counted as ("<bucket> ... a:<activity s> l:<locked_at ms> t:<trashed_at ms>");
count_user works out what it should be counted as from the user's state now and, when the two
differ, moves the user between its slot's counters in the same atomic call. So, for every slot,
counts[b] is the number of the slot's users whose `counted` holds b, whichever scripts ran in
whatever order: a script that forgets to call it leaves one user's place stale (until its next
count_user or a rebuild), never a counter that disagrees with the places it sums.

An administrator's internal subject (ids starting "DZ", model/admin_factors.py) is no user: it
is never counted.

Buckets: trash (status "pending deletion"), else total and the status (active, bypass,
disabled, locked_out) and not_enrolled (no phone, token or security key). The time-dependent
counts are sorted sets: activity (last login, else creation; users outside the Trash), locked
(locked_at of locked-out users) and trash (when sent there).

Counting keys, appended to the script's KEYS from index `first` (store/keys/tagged.py `counting`):
  phones ZSET, tokens HASH (older versions' copies: lib/token_copies.lua), security keys HASH
  of the user;
  counts HASH, activity ZSET, locked ZSET, trash ZSET of the user's slot.
]]
--#include token_copies
local function counting_keys(first)
  return {phones = KEYS[first], tokens = KEYS[first + 1], security_keys = KEYS[first + 2],
          counts = KEYS[first + 3], a = KEYS[first + 4], l = KEYS[first + 5],
          t = KEYS[first + 6]}
end

local function place_of(user_key, f, ck)
  local status = f[2] or 'active'
  if status == 'pending deletion' then return 'trash t:' .. (f[6] or '0') end
  local words = {'total', status == 'locked out' and 'locked_out' or status}
  if redis.call('ZCARD', ck.phones) + token_copy_count(user_key, ck.tokens)
      + redis.call('HLEN', ck.security_keys) == 0 then
    words[#words + 1] = 'not_enrolled'
  end
  local seen = math.max(tonumber(f[3] or '0') or 0, tonumber(f[4] or '0') or 0)
  words[#words + 1] = 'a:' .. string.format('%d', seen)
  if status == 'locked out' then words[#words + 1] = 'l:' .. (f[5] or '0') end
  return table.concat(words, ' ')
end

local function words_of(place)
  local words = {}
  for word in string.gmatch(place, '%S+') do words[word] = true end
  return words
end

-- Only what changed is written: a login moves the activity score and nothing else.
local function move_place(ck, id, old, new)
  local before, after, kept = words_of(old), words_of(new), {}
  for word in pairs(after) do
    local set = string.match(word, '^(%a):')
    if set then kept[set] = true end
  end
  for word in pairs(before) do
    if not after[word] then
      local set = string.match(word, '^(%a):')
      if not set then
        redis.call('HINCRBY', ck.counts, word, -1)
      elseif not kept[set] then
        redis.call('ZREM', ck[set], id)
      end
    end
  end
  for word in pairs(after) do
    if not before[word] then
      local set, score = string.match(word, '^(%a):(%d+)$')
      if set then
        redis.call('ZADD', ck[set], score, id)
      else
        redis.call('HINCRBY', ck.counts, word, 1)
      end
    end
  end
end

-- The id of the user whose hash is `user_key` (the key's tag {u:<id>}: records no longer repeat
-- it), or nil when the hash holds no user.
local function user_id_of(user_key, username)
  if not username then return nil end
  return string.match(user_key, '{u:([^}]*)}')
end

-- forget = true: the user is about to be deleted; it leaves every counter.
local function count_user(user_key, ck, forget)
  local f = redis.call('HMGET', user_key, 'username', 'status', 'created', 'last_login',
                       'locked_at', 'trashed_at', 'counted')
  local id = user_id_of(user_key, f[1])
  if not id or string.sub(id, 1, 2) == 'DZ' then return end  -- an administrator's subject
  local old = f[7] or ''
  local new = ''
  if not forget then new = place_of(user_key, f, ck) end
  if new == old then return end
  move_place(ck, id, old, new)
  redis.call('HSET', user_key, 'counted', new)
end

-- A login (the hot path): only the activity word of the user's place moves, so nothing is
-- recomputed; the place stays what count_user made it, with its activity now (the last login).
local function count_login(user_key, ck, now_s)
  local f = redis.call('HMGET', user_key, 'username', 'counted', 'created')
  local id, counted = user_id_of(user_key, f[1]), f[2] or ''
  if not id or string.sub(id, 1, 2) == 'DZ' then return end  -- an administrator's subject
  if not string.find(counted, 'a:', 1, true) then return count_user(user_key, ck) end
  local seen = string.format('%d', math.max(now_s, tonumber(f[3] or '0') or 0))
  local new = string.gsub(counted, 'a:%d+', 'a:' .. seen)
  if new == counted then return end
  redis.call('ZADD', ck.a, seen, id)
  redis.call('HSET', user_key, 'counted', new)
end
