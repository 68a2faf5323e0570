--[[ log_append: add one record to a log stream (authentication, telephony, administrator),
ordered, never refused; for the authentication log also count it in its hour and keep the
newest denials, in the same call.

The entry id carries the record's own time (``<now_ms>-*``), so time-window queries are stream
ranges. If this process's clock is behind the newest entry, Redis refuses that id; the record
then takes the next automatic id (which Redis keeps after the newest), so it is never lost and
the stream stays ordered. The stream is trimmed to about its length and, when a retention is
set, to the entries since the oldest time kept (``~``: whole nodes at a time, so a few entries
past either bound may stay until the next node goes).

The hour's tally and the recent list are named with the stream's key as their hash tag
(``as:{as:authlog}:...``), so they live in the stream's slot and this stays one script call on
Redis Cluster.

KEYS[1]  the log STREAM
KEYS[2]  (optional) the hour's tally HASH (result -> count), expiring 50 hours after creation
KEYS[3]  (optional) the recent denials LIST (newest first, the last 100 kept)
ARGV[1]  now_ms
ARGV[2]  approximate length to trim to
ARGV[3]  the record's field name ("e": JSON record, "r": authentication-log row)
ARGV[4]  the record
ARGV[5]  oldest time kept, ms (0 = no retention by time)
ARGV[6]  (with KEYS[2]) the tally field (the record's result)
ARGV[7]  (with KEYS[3]) "1" to keep the record in the recent denials list
Returns the entry id.
]]
local now_ms, max_len, field, record = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local added = redis.pcall('XADD', KEYS[1], 'MAXLEN', '~', max_len, now_ms .. '-*', field, record)
if type(added) == 'table' and added.err then
  added = redis.call('XADD', KEYS[1], 'MAXLEN', '~', max_len, '*', field, record)
end
local oldest = tonumber(ARGV[5]) or 0
if oldest > 0 then
  redis.call('XTRIM', KEYS[1], 'MINID', '~', oldest)
end
if KEYS[2] then
  if redis.call('HINCRBY', KEYS[2], ARGV[6], 1) == 1 and redis.call('TTL', KEYS[2]) < 0 then
    redis.call('EXPIRE', KEYS[2], 180000)
  end
end
if KEYS[3] and ARGV[7] == '1' then
  redis.call('LPUSH', KEYS[3], record)
  redis.call('LTRIM', KEYS[3], 0, 99)
end
return added
