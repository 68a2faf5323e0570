--[[ user_counts: keep one user's place in the counters of its hash slot exact.

Every script that creates, trashes, restores, deletes or locks a user, changes its status, its
devices or its last login ends with count_user. The user hash remembers in `counted` what the
user is counted as ("<bucket> ... a:<activity s> l:<locked_at ms> t:<trashed_at ms>");
count_user works out what it should be counted as from the user's state now and, when the two
differ, moves the user between its slot's counters in the same atomic call. So, for every slot,
counts[b] is the number of the slot's users whose `counted` holds b, whichever scripts ran in
whatever order: a script that forgets to call it leaves one user's place stale (until its next
count_user or a rebuild), never a counter that disagrees with the places it sums.

Buckets: trash (status "pending deletion"), else total and the status (active, bypass,
disabled, locked_out) and not_enrolled (no phone, token or security key). The time-dependent
counts are sorted sets: activity (last login, else creation; users outside the Trash), locked
(locked_at of locked-out users) and trash (when sent there).

Counting keys, appended to the script's KEYS from index `first` (store/keys.py `counting`):
  phones ZSET, tokens HASH, security keys HASH of the user;
  counts HASH, activity ZSET, locked ZSET, trash ZSET of the user's slot.
]]
local function counting_keys(first)
  return {phones = KEYS[first], tokens = KEYS[first + 1], security_keys = KEYS[first + 2],
          counts = KEYS[first + 3], a = KEYS[first + 4], l = KEYS[first + 5],
          t = KEYS[first + 6]}
end

local function place_of(f, ck)
  local status = f[2] or 'active'
  if status == 'pending deletion' then return 'trash t:' .. (f[6] or '0') end
  local words = {'total', status == 'locked out' and 'locked_out' or status}
  if redis.call('ZCARD', ck.phones) + redis.call('HLEN', ck.tokens)
      + redis.call('HLEN', ck.security_keys) == 0 then
    words[#words + 1] = 'not_enrolled'
  end
  local seen = math.max(tonumber(f[3] or '0') or 0, tonumber(f[4] or '0') or 0)
  words[#words + 1] = 'a:' .. string.format('%d', seen)
  if status == 'locked out' then words[#words + 1] = 'l:' .. (f[5] or '0') end
  return table.concat(words, ' ')
end

local function move_place(ck, id, place, sign)
  for word in string.gmatch(place, '%S+') do
    local set, score = string.match(word, '^(%a):(%d+)$')
    if set then
      if sign > 0 then
        redis.call('ZADD', ck[set], score, id)
      else
        redis.call('ZREM', ck[set], id)
      end
    else
      redis.call('HINCRBY', ck.counts, word, sign)
    end
  end
end

-- forget = true: the user is about to be deleted; it leaves every counter.
local function count_user(user_key, ck, forget)
  local f = redis.call('HMGET', user_key, 'user_id', 'status', 'created', 'last_login',
                       'locked_at', 'trashed_at', 'counted')
  local id = f[1]
  if not id then return end
  local old = f[7] or ''
  local new = ''
  if not forget then new = place_of(f, ck) end
  if new == old then return end
  move_place(ck, id, old, -1)
  move_place(ck, id, new, 1)
  redis.call('HSET', user_key, 'counted', new)
end
