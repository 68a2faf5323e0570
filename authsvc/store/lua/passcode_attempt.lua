--[[ passcode_attempt: decide one passcode or security-key attempt for one user, atomically.

Python has already computed, from the state it loaded, what the submitted code or assertion
would consume: one match per object (a bypass code's or SMS code's keyed hash, a token's matched
counter or time step, a security key's new sign count). This script re-checks every match
against the current state and commits at most one, together with the lockout count, so that a
code is accepted at most once and a threshold of T records at most T failures however many
requests race. It knows commit rules, not factors: each match names its rule, the hash holding
its object, and the log name to answer with.

KEYS[1]  user HASH            (status, fails, locked_at, lockout_reason, attempt_seq, last_login)
KEYS[2]  user's bypass HASH   (code hash -> {"id","uses","expires",...}; uses 0 = unlimited)
KEYS[3]  user's token HASH of older versions: the copies (token id -> {"counter",
         "last_step","rs_*",...}) are the user hash's fields 't:<token id>', and the script
         first moves this hash's there (lib/token_copies.lua)
KEYS[4]  user's Duo Mobile passcode HASH (phone id -> {"seed","counter","cred"})
KEYS[5]  user's SMS passcode HASH (code hash -> {"pos","expires"}; expires 0 = never)
KEYS[6]  user's security key HASH (credential id -> {"count","kind","clone",...})
KEYS[7..13] the counting keys (lib/user_counts.lua): a success moves the user's last activity,
         a lockout (or a lockout lifted on expiry) its status, in the same call
KEYS[14] user's groups SET   (read for the view digest only)
ARGV[1]  now_ms               (from the injected clock)
ARGV[2]  lockout threshold    (0 = never lock)
ARGV[3]  lockout expiry ms    (0 = only an admin unlocks)
ARGV[4]  status the user's groups impose: "" | "bypass" | "disabled"  (lib/status_gate.lua)
ARGV[5]  the user's membership version those groups were read at ("" = not checked)
ARGV[6]  the digest of the user's state the matches were computed from (lib/user_view.lua),
         "" = not checked (security keys: their assertion was checked against a fresh read)
ARGV[7]  N matches, then N groups of 7, tried in order:
         rule   "bypass"|"sms"|"hotp"|"totp"|"yk"|"key"  (model.factors.CommitRule)
         home   "bypass"|"sms"|"tokens"|"mobile_otp"|"security_keys"  (model.factors.Home)
         id     object id in that hash (code hash, token, phone or credential id)
         counter  matched counter / step / packed YubiKey counter / new sign count ("" = none)
         far    HOTP counter for automatic resync ("" = none)
         log    the log's factor name if this match is committed
         window the look-ahead the counter was found in ("" = none): an HOTP counter is only
                accepted below the stored counter + window
Catching up: when the digest given differs from the state's in its counters only (another
process accepted a code since this copy was made: lib/user_view.lua), the matches are still
tried, against the current counters and windows, but only a success is committed: no automatic
resync progress, no attempt number, no failure. A success answers as below with the state's
token and Duo Mobile hashes appended, so the caller's copy is current again; no success answers
{12, digest, tokens, mobile} (STALE_VIEW with the same), and the caller decides again from them.
Returns
  {1, log, id, detail, view, raw}
                           ALLOW; id is the bypass code's id for a bypass code, "" for an SMS
                           code; detail "" or "resynced" (tokens) or remaining uses (bypass,
                           "0" = used up, "unlimited") or the SMS code's position; view: the
                           digest of the state now ("" when not checked, or when the status
                           moved: a lockout lifted on expiry), raw: the committed token copy or
                           Duo Mobile state as stored now ("" for other homes), so the caller
                           can bring its copy up to that digest without reading it;
  {1, log, id, detail, view, "", tokens, mobile}
                           ALLOW while catching up: tokens and mobile are the flat token and
                           Duo Mobile hashes now, view their digest ("" if a lockout was lifted)
  {2, fails, flag}         INVALID: a failure counted; fails = consecutive failures now; flag
                           "possible_clone" when a security key's sign count did not increase
  {3, fails, flag}         LOCKED_NOW: this failure reached the threshold; user locked out
  {4}                      LOCKED: user was already locked out (not counted)
  {5}                      DISABLED
  {6}                      BYPASS_USER (status bypass: allow without a code)
  {7}                      NO_USER
  {11}                     STALE: the user's groups changed since they were read; nothing done
  {12}                     STALE_VIEW: the state differs from the digest given; nothing done
  {12, view, tokens, mobile}  STALE_VIEW while catching up (above); nothing done
]]
local now = tonumber(ARGV[1])
local threshold = tonumber(ARGV[2])
local expire_ms = tonumber(ARGV[3])
local group_status, groups_v = ARGV[4], ARGV[5]
local view = ARGV[6]
local matches = tonumber(ARGV[7])
local RESYNC_WINDOW_MS = 300000
local RESYNC_CODES = 3

local user_key = KEYS[1]
local homes = {bypass = KEYS[2], tokens = user_key, mobile_otp = KEYS[4], sms = KEYS[5],
               security_keys = KEYS[6]}
local old_tokens = KEYS[3]
local flag = ''

--#include status_gate
--#include user_counts
--#include user_view
local counting = counting_keys(7)
local field_prefix = {tokens = COPY_PREFIX}
adopt_token_copies(user_key, old_tokens)  -- gone now: the views below read the user hash only
local catching_up, fresh = false, nil
if view ~= '' then
  if redis.call('EXISTS', user_key) == 0 then return {7} end
  local current, tokens, mobile = user_view(user_key, false, homes.mobile_otp, KEYS[14])
  if current ~= view then
    if string.sub(current, 1, IDENTITY_CHARS) ~= string.sub(view, 1, IDENTITY_CHARS) then
      return {12}
    end
    catching_up, fresh = true, {current, tokens, mobile}
  end
end
local gate, lifted = status_gate(user_key, now, expire_ms, group_status, groups_v)
if gate then return {gate} end
-- Successive attempts are what automatic resync counts, so every attempt gets a number (while
-- catching up, only one that succeeds: nothing else is written then).
local seq = nil
if not catching_up then seq = redis.call('HINCRBY', user_key, 'attempt_seq', 1) end

local function save(key, id, record)
  redis.call('HSET', key, id, cjson.encode(record))
end

local rules = {}

-- Bypass codes: uses 0 = unlimited; the last use (or an expired code) deletes the code.
function rules.bypass(key, id, code)
  if code.expires > 0 and code.expires <= now then
    redis.call('HDEL', key, id)
    return nil
  end
  if code.uses == 0 then return 'unlimited', code.id end
  if code.uses <= 1 then
    redis.call('HDEL', key, id)
    return '0', code.id
  end
  code.uses = code.uses - 1
  save(key, id, code)
  return tostring(code.uses), code.id
end

-- SMS passcodes: each code of the current batch works once, until it expires.
function rules.sms(key, id, code)
  redis.call('HDEL', key, id)
  if code.expires > 0 and code.expires <= now then return nil end
  return tostring(code.pos), ''
end

-- HOTP: accept a counter at or past the stored next-expected counter; never move backwards.
-- Otherwise count towards automatic resync: RESYNC_CODES consecutive far codes in as many
-- successive attempts within RESYNC_WINDOW_MS resync the token (the last attempt succeeds).
function rules.hotp(key, id, token, counter, far, window)
  if counter and counter >= token.counter and (not window or counter < token.counter + window) then
    token.counter = counter + 1
    token.rs_n = 0
    save(key, id, token)
    return ''
  end
  if not far or far < token.counter then return nil end
  local n = 1
  if (token.rs_n or 0) > 0 and token.rs_next == far and token.rs_seq == seq - 1
      and now - token.rs_ts <= RESYNC_WINDOW_MS then
    n = token.rs_n + 1
  else
    token.rs_ts = now
  end
  if n >= RESYNC_CODES then
    token.counter = far + 1
    token.rs_n = 0
    save(key, id, token)
    return 'resynced'
  end
  token.rs_n, token.rs_next, token.rs_seq = n, far + 1, seq
  save(key, id, token)
  return nil
end

-- TOTP: each time step is usable once, and only steps after the last accepted one.
function rules.totp(key, id, token, counter)
  if counter and counter > (token.last_step or -1) then  -- absent: no step used yet
    token.last_step = counter
    save(key, id, token)
    return ''
  end
  return nil
end

-- YubiKey OTP: the (use counter, session counter) pair, packed as one number, must strictly
-- increase: a replayed or older OTP never works again.
function rules.yk(key, id, token, counter)
  if counter and counter > token.counter then
    token.counter = counter
    save(key, id, token)
    return ''
  end
  return nil
end

-- Security keys: a sign count that does not increase (when either count is non-zero) means the
-- credential may have been cloned: refused, and the credential is flagged.
function rules.key(key, id, credential, counter)
  if not counter then return nil end
  if (credential.count > 0 or counter > 0) and counter <= credential.count then
    credential.clone = 1
    save(key, id, credential)
    flag = 'possible_clone'
    return nil
  end
  credential.count = counter
  credential.last_used = math.floor(now / 1000)
  save(key, id, credential)
  return ''
end

-- What the caller's copy of the user becomes: the new digest, and the object committed (or,
-- catching up, the whole token and Duo Mobile hashes).
local function answer_allowed(log, id, detail, key, field)
  if view == '' then return {1, log, id, detail, '', ''} end
  if catching_up then
    local digest, tokens, mobile = user_view(user_key, false, homes.mobile_otp, KEYS[14])
    if lifted then digest = '' end
    return {1, log, id, detail, digest, '', tokens, mobile}
  end
  if lifted then return {1, log, id, detail, '', ''} end
  if key ~= homes.tokens and key ~= homes.mobile_otp then return {1, log, id, detail, view, ''} end
  return {1, log, id, detail, user_view(user_key, false, homes.mobile_otp, KEYS[14]),
          redis.call('HGET', key, field)}
end

for i = 0, matches - 1 do
  local base = 8 + i * 7
  local rule, key, id = rules[ARGV[base]], homes[ARGV[base + 1]], ARGV[base + 2]
  local field = (field_prefix[ARGV[base + 1]] or '') .. id
  local counter, far, log = tonumber(ARGV[base + 3]), tonumber(ARGV[base + 4]), ARGV[base + 5]
  local window = tonumber(ARGV[base + 6])
  if catching_up then far = nil end
  local raw = redis.call('HGET', key, field)
  if raw then
    local detail, shown_id = rule(key, field, cjson.decode(raw), counter, far, window)
    if detail then
      if catching_up then redis.call('HINCRBY', user_key, 'attempt_seq', 1) end
      redis.call('HSET', user_key, 'fails', 0, 'last_login', math.floor(now / 1000))
      if lifted then count_user(user_key, counting) else
        count_login(user_key, counting, math.floor(now / 1000)) end
      return answer_allowed(log, shown_id or id, detail, key, field)
    end
  end
end

if catching_up then
  if lifted then
    count_user(user_key, counting)
    return {12}
  end
  return {12, fresh[1], fresh[2], fresh[3]}
end

local fails = redis.call('HINCRBY', user_key, 'fails', 1)
if threshold > 0 and fails >= threshold then
  redis.call('HSET', user_key, 'status', 'locked out', 'lockout_reason', 'Failed Attempts',
             'locked_at', now)
  count_user(user_key, counting)
  return {3, fails, flag}
end
if lifted then count_user(user_key, counting) end
return {2, fails, flag}
