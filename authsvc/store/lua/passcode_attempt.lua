--[[ passcode_attempt: decide one passcode attempt for one user, atomically.

Python has already computed, from the state it loaded, which counter or time step (if any) the
submitted code matches for each of the user's tokens, and the keyed hash of the code for the
bypass lookup. This script re-checks all of it against the current state and commits at most one
consumption, together with the lockout count, so that a code is accepted at most once and a
threshold of T records at most T failures however many requests race.

KEYS[1]  user HASH            (status, fails, locked_at, lockout_reason, attempt_seq, last_login)
KEYS[2]  user's bypass HASH   (code hash -> {"id","uses","expires",...}; uses 0 = unlimited)
KEYS[3]  user's token HASH    (token id -> {"type","counter","last_step","rs_*",...})
KEYS[4]  user's Duo Mobile passcode HASH (phone id -> {"seed","counter","cred"})
KEYS[5]  user's SMS passcode HASH (code hash -> {"pos","expires"}; expires 0 = never)
KEYS[6]  user's security key HASH (credential id -> {"count","kind","clone",...})
ARGV[1]  now_ms               (from the injected clock)
ARGV[2]  lockout threshold    (0 = never lock)
ARGV[3]  lockout expiry ms    (0 = only an admin unlocks)
ARGV[4]  bypass code hash     ("" when the passcode cannot be a bypass code)
ARGV[5]  SMS passcode hash    ("" when the passcode cannot be an SMS passcode)
ARGV[6]  N token candidates, then N groups of 4:
         token, phone or credential id, kind ("hotp"|"totp"|"mobile"|"yk"|"key"), matched
         counter, step, YubiKey (useCtr * 256 + sessionCtr) or the assertion's new sign count
         (-1 = none: the signature did not verify),
         far HOTP counter for automatic resync (-1 = none)
Returns
  {1, factor, id, detail}  ALLOW: factor "bypass_code"|"sms_passcode"|"hardware_token"|
                           "duo_mobile_passcode"|"yubikey_code"|"webauthn_security_key"|
                           "u2f_token";
                           detail "" or
                           "resynced" (tokens) or remaining uses (bypass, "0" = used up,
                           "unlimited")
  {2, fails, flag}         INVALID: a failure counted; fails = consecutive failures now; flag
                           "possible_clone" when a security key's sign count did not increase
  {3, fails, flag}         LOCKED_NOW: this failure reached the threshold; user locked out
  {4}                      LOCKED: user was already locked out (not counted)
  {5}                      DISABLED
  {6}                      BYPASS_USER (status bypass: allow without a code)
  {7}                      NO_USER
]]
local now = tonumber(ARGV[1])
local threshold = tonumber(ARGV[2])
local expire_ms = tonumber(ARGV[3])
local bypass_hash, sms_hash = ARGV[4], ARGV[5]
local candidates = tonumber(ARGV[6])
local RESYNC_WINDOW_MS = 300000
local RESYNC_CODES = 3

local user_key, bypass_key, token_key, mobile_key, sms_key, keys_key =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local flag = ''

--#include status_gate
local gate = status_gate(user_key, now, expire_ms)
if gate then return {gate} end
-- Successive attempts are what automatic resync counts, so every attempt gets a number.
local seq = redis.call('HINCRBY', user_key, 'attempt_seq', 1)

local function try_bypass()
  if bypass_hash == '' then return nil end
  local raw = redis.call('HGET', bypass_key, bypass_hash)
  if not raw then return nil end
  local code = cjson.decode(raw)
  if code.expires > 0 and code.expires <= now then
    redis.call('HDEL', bypass_key, bypass_hash)
    return nil
  end
  if code.uses == 0 then return {code.id, 'unlimited'} end
  if code.uses <= 1 then
    redis.call('HDEL', bypass_key, bypass_hash)
    return {code.id, '0'}
  end
  code.uses = code.uses - 1
  redis.call('HSET', bypass_key, bypass_hash, cjson.encode(code))
  return {code.id, tostring(code.uses)}
end

-- SMS passcodes: each code of the current batch works once, until it expires.
local function try_sms()
  if sms_hash == '' then return nil end
  local raw = redis.call('HGET', sms_key, sms_hash)
  if not raw then return nil end
  redis.call('HDEL', sms_key, sms_hash)
  local code = cjson.decode(raw)
  if code.expires > 0 and code.expires <= now then return nil end
  return tostring(code.pos)
end

local function save(key, id, token)
  redis.call('HSET', key, id, cjson.encode(token))
end

-- HOTP: accept a counter at or past the stored next-expected counter; never move backwards.
-- Otherwise count towards automatic resync: RESYNC_CODES consecutive far codes in as many
-- successive attempts within RESYNC_WINDOW_MS resync the token (the last attempt succeeds).
local function try_hotp(key, id, token, match, far)
  if match >= 0 and match >= token.counter then
    token.counter = match + 1
    token.rs_n = 0
    save(key, id, token)
    return ''
  end
  if far < 0 or far < token.counter then return nil end
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
local function try_totp(id, token, match)
  if match >= 0 and match > token.last_step then
    token.last_step = match
    save(token_key, id, token)
    return ''
  end
  return nil
end

-- YubiKey OTP: the (use counter, session counter) pair, packed as one number, must strictly
-- increase: a replayed or older OTP never works again.
local function try_yk(id, token, match)
  if match >= 0 and match > token.counter then
    token.counter = match
    save(token_key, id, token)
    return ''
  end
  return nil
end

-- Security keys: a sign count that does not increase (when either count is non-zero) means the
-- credential may have been cloned: refused, and the credential is flagged.
local function try_key(id, credential, match)
  if match < 0 then return nil end
  if (credential.count > 0 or match > 0) and match <= credential.count then
    credential.clone = 1
    save(keys_key, id, credential)
    flag = 'possible_clone'
    return nil
  end
  credential.count = match
  credential.last_used = math.floor(now / 1000)
  save(keys_key, id, credential)
  return ''
end

local function succeed(factor, id, detail)
  redis.call('HSET', user_key, 'fails', 0, 'last_login', math.floor(now / 1000))
  return {1, factor, id, detail}
end

local used = try_bypass()
if used then return succeed('bypass_code', used[1], used[2]) end
local sms_pos = try_sms()
if sms_pos then return succeed('sms_passcode', '', sms_pos) end

for i = 0, candidates - 1 do
  local base = 7 + i * 4
  local id, kind = ARGV[base], ARGV[base + 1]
  local match, far = tonumber(ARGV[base + 2]), tonumber(ARGV[base + 3])
  local key = token_key
  if kind == 'mobile' then key = mobile_key elseif kind == 'key' then key = keys_key end
  local raw = redis.call('HGET', key, id)
  if raw then
    local token = cjson.decode(raw)
    local detail
    if kind == 'hotp' then detail = try_hotp(key, id, token, match, far)
    elseif kind == 'mobile' then detail = try_hotp(key, id, token, match, -1)
    elseif kind == 'totp' then detail = try_totp(id, token, match)
    elseif kind == 'yk' then detail = try_yk(id, token, match)
    elseif kind == 'key' then detail = try_key(id, token, match) end
    if detail then
      local factor = 'hardware_token'
      if kind == 'mobile' then factor = 'duo_mobile_passcode'
      elseif kind == 'yk' then factor = 'yubikey_code'
      elseif kind == 'key' then
        factor = token.kind == 'u2f' and 'u2f_token' or 'webauthn_security_key'
      end
      return succeed(factor, id, detail)
    end
  end
end

local fails = redis.call('HINCRBY', user_key, 'fails', 1)
if threshold > 0 and fails >= threshold then
  redis.call('HSET', user_key, 'status', 'locked out', 'lockout_reason', 'Failed Attempts',
             'locked_at', now)
  return {3, fails, flag}
end
return {2, fails, flag}
