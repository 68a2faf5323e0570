--[[ log_append: add one record to a log stream (authentication, telephony), ordered, never refused.

The entry id carries the record's own time (``<now_ms>-*``), so time-window queries are stream
ranges. If this process's clock is behind the newest entry, Redis refuses that id; the record
then takes the next automatic id (which Redis keeps after the newest), so it is never lost and
the stream stays ordered.

KEYS[1]  the log STREAM
ARGV[1]  now_ms
ARGV[2]  approximate length to trim to
ARGV[3]  the record (JSON)
Returns the entry id.
]]
local added = redis.pcall('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], ARGV[1] .. '-*', 'e', ARGV[3])
if type(added) == 'table' and added.err then
  added = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'e', ARGV[3])
end
return added
