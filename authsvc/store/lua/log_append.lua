--[[ log_append: add one record to a log stream (authentication, telephony), ordered, never refused.

The entry id carries the record's own time (``<now_ms>-*``), so time-window queries are stream
ranges. If this process's clock is behind the newest entry, Redis refuses that id; the record
then takes the next automatic id (which Redis keeps after the newest), so it is never lost and
the stream stays ordered. The stream is trimmed to about its length and, when a retention is
set, to the entries since the oldest time kept (``~``: whole nodes at a time, so a few entries
past either bound may stay until the next node goes).

KEYS[1]  the log STREAM
ARGV[1]  now_ms
ARGV[2]  approximate length to trim to
ARGV[3]  the record's field name ("e": JSON record, "r": authentication-log row)
ARGV[4]  the record
ARGV[5]  oldest time kept, ms (0 = no retention by time)
Returns the entry id.
]]
local added = redis.pcall('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], ARGV[1] .. '-*', ARGV[3], ARGV[4])
if type(added) == 'table' and added.err then
  added = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', ARGV[3], ARGV[4])
end
local oldest = tonumber(ARGV[5]) or 0
if oldest > 0 then
  redis.call('XTRIM', KEYS[1], 'MINID', '~', oldest)
end
return added
