"""The Redis key schema: every key name the service uses is built here and nowhere else.

Keys that one Lua script touches together share a hash tag, so every script stays legal on Redis
Cluster: all of one user's keys carry ``{u:<user_id>}``. A hardware token's record lives in its
owner's token hash while assigned (and in a global hash while unassigned), because the passcode
script commits the token counter and the user's lockout count in one atomic call.

Global lookups (username, ikey, serial, token owner, bypass-code id) go through small index keys
with no tag; no script touches them together with a user's keys.

Each builder says the Redis type, what it holds, and its TTL.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Keys:
    """Key builders under one prefix (``AUTHSVC_KEY_PREFIX``, default ``as``)."""

    prefix: str = "as"

    # --- one user: hash tag {u:<user_id>} -------------------------------------------------------

    def user(self, user_id: str) -> str:
        """HASH: the user record (profile, status, lockout counters, aliases as JSON). No TTL."""
        return f"{self.prefix}:{{u:{user_id}}}:user"

    def user_tokens(self, user_id: str) -> str:
        """HASH: token id -> JSON record of each hardware token assigned to the user.

        The record (type, serial, sealed seed, HOTP counter / TOTP last step, resync state) sits
        in the owner's slot so the passcode script commits it with the lockout count. No TTL.
        """
        return f"{self.prefix}:{{u:{user_id}}}:tokens"

    def user_bypass(self, user_id: str) -> str:
        """HASH: keyed code hash -> JSON metadata of one bypass code. No TTL (expiry inside)."""
        return f"{self.prefix}:{{u:{user_id}}}:bypass"

    def user_phones(self, user_id: str) -> str:
        """ZSET: the user's phone ids scored by position (the first is used for automatic push)."""
        return f"{self.prefix}:{{u:{user_id}}}:phones"

    def user_mobile_otp(self, user_id: str) -> str:
        """HASH: phone id -> JSON {seed (sealed), counter, cred} of each activated phone the user
        holds: the user's own copy of the app's passcode state, so the passcode script commits
        its counter with the user's lockout count. Rewritten when the phone is (re)activated."""
        return f"{self.prefix}:{{u:{user_id}}}:mobile_otp"

    def user_sms(self, user_id: str) -> str:
        """HASH: keyed hash of each live SMS passcode of the user's current batch -> JSON
        {pos, expires}. Replaced by every new batch; a used code is deleted."""
        return f"{self.prefix}:{{u:{user_id}}}:sms"

    def user_security_keys(self, user_id: str) -> str:
        """HASH: credential id (base64url) -> JSON of each WebAuthn credential or U2F
        registration of the user (COSE public key, sign count, name, kind, clone flag).
        In the user's slot: the sign-count compare-and-set is part of the attempt script."""
        return f"{self.prefix}:{{u:{user_id}}}:security_keys"

    def challenge(self, user_id: str, challenge: str) -> str:
        """STRING: JSON purpose of a WebAuthn/U2F challenge issued to the user; taken once
        (GETDEL). TTL 5 min."""
        return f"{self.prefix}:{{u:{user_id}}}:challenge:{challenge}"

    def push(self, user_id: str, txid: str) -> str:
        """HASH: one push transaction (state, phone, urgid, expiry, step-up code hash, tries,
        attributes, seq). TTL: expiry + 10 min."""
        return f"{self.prefix}:{{u:{user_id}}}:push:{txid}"

    def remembered_device(self, user_id: str, token_hash: str) -> str:
        """STRING: JSON {client_id, fingerprint, expires} of a browser the prompt remembers for
        the user and one application, under the keyed hash of its cookie token. A change of the
        user's devices is noticed through the fingerprint (the entry is then deleted on its
        next use). TTL: the application's remember days."""
        return f"{self.prefix}:{{u:{user_id}}}:remember:{token_hash}"

    def prompt_last_device(self, user_id: str) -> str:
        """STRING: id of the device the user last signed in with through the Duo Prompt (the
        one the prompt preselects). TTL 400 days."""
        return f"{self.prefix}:{{u:{user_id}}}:prompt:last"

    def user_pushes(self, user_id: str) -> str:
        """ZSET: the user's outstanding push txids scored by expiry ms (push-fatigue limits)."""
        return f"{self.prefix}:{{u:{user_id}}}:pushes"

    def user_groups(self, user_id: str) -> str:
        """SET: ids of the groups the user is in (what decisions read; the group's member list
        follows it). Changed only by user_groups.lua, which also moves ``groups_v`` in the user
        record. No TTL."""
        return f"{self.prefix}:{{u:{user_id}}}:groups"

    # --- one group: hash tag {g:<group_id>} ---------------------------------------------------

    def group(self, group_id: str) -> str:
        """HASH: a group (name, desc, status, factor switches "1"/"0", created). No TTL."""
        return f"{self.prefix}:{{g:{group_id}}}:group"

    def group_members(self, group_id: str) -> str:
        """ZSET: user ids of the group's members scored by joining time (ms), for listings and
        for telling members' records that the group changed. May name a user who left in a
        crash between two writes (readers check the user's own set). No TTL."""
        return f"{self.prefix}:{{g:{group_id}}}:members"

    # --- one phone: hash tag {p:<phone_id>} ----------------------------------------------------

    def phone(self, phone_id: str) -> str:
        """HASH: a phone (number, type, platform, ...) and its app's credentials (akey, public
        key, sealed hotp_secret, activation host, credential version). No TTL."""
        return f"{self.prefix}:{{p:{phone_id}}}:phone"

    def phone_users(self, phone_id: str) -> str:
        """SET: ids of the users the phone is attached to. No TTL."""
        return f"{self.prefix}:{{p:{phone_id}}}:users"

    def phone_inbox(self, phone_id: str) -> str:
        """ZSET: urgids of pushes waiting for the phone's answer, scored by expiry ms."""
        return f"{self.prefix}:{{p:{phone_id}}}:inbox"

    # --- administrators: hash tag {admins} (the Owner invariant is one script over them) -------

    def admin(self, admin_id: str) -> str:
        """HASH: an administrator (email, name, role, status, Argon2id password hash, failed
        sign-ins, created, last_login). No TTL."""
        return f"{self.prefix}:{{admins}}:admin:{admin_id}"

    def admin_emails(self) -> str:
        """HASH: lowercased email -> admin id (emails are unique). No TTL."""
        return f"{self.prefix}:{{admins}}:emails"

    def admin_owners(self) -> str:
        """SET: ids of the Owners who are not disabled (admin_change.lua keeps at least one).
        No TTL."""
        return f"{self.prefix}:{{admins}}:owners"

    def admins(self) -> str:
        """ZSET: admin ids by creation time (ms). No TTL."""
        return f"{self.prefix}:{{admins}}:list"

    def admin_setup(self, token_hash: str) -> str:
        """STRING: admin id of a live one-time setup link (SHA-256 of its token; taken once).
        TTL: the link's validity."""
        return f"{self.prefix}:{{admins}}:setup:{token_hash}"

    def admin_session(self, token_hash: str) -> str:
        """HASH: one Admin Panel session (admin id, stage, CSRF value, created and last-seen
        ms, the push being waited for, the setup link it belongs to) under the SHA-256 of its
        cookie token. TTL: the idle timeout, renewed by every request."""
        return f"{self.prefix}:{{admins}}:session:{token_hash}"

    def admin_sessions_of(self, admin_id: str) -> str:
        """SET: the session hashes of one administrator ("sign out everywhere"); members whose
        session expired are pruned when the set is read. No TTL."""
        return f"{self.prefix}:{{admins}}:sessions:{admin_id}"

    # --- global indexes and collections (no tag; never mixed with a user's keys in a script) -----

    def username_index(self) -> str:
        """HASH: lowercased username or alias -> user id. Claimed atomically by a script. No TTL."""
        return f"{self.prefix}:idx:username"

    def user_search(self) -> str:
        """ZSET (all scores 0): ``<term>\\x00<user id>`` for each lowercased username, alias,
        email, full name and word of the full name, for the Admin Panel's prefix search
        (ZRANGEBYLEX). Results are checked against the records read. No TTL."""
        return f"{self.prefix}:idx:user_search"

    def user_search_ready(self) -> str:
        """STRING: set once every user stored before the search index existed is in it. No
        TTL."""
        return f"{self.prefix}:idx:user_search:ready"

    def users(self) -> str:
        """ZSET: user ids scored by creation time (ms), the order of `get_users`. No TTL."""
        return f"{self.prefix}:users"

    def unenrolled_sweep(self) -> str:
        """STRING: creation time (ms) up to which users were checked for the "Not enrolled"
        lockout; the next sweep starts after it. No TTL."""
        return f"{self.prefix}:sweep:unenrolled"

    def unenrolled_sweep_lock(self) -> str:
        """STRING: held (SET NX PX) by the one process sweeping now. TTL: the sweep interval."""
        return f"{self.prefix}:sweep:unenrolled:lock"

    def tokens(self) -> str:
        """ZSET: token ids scored by creation time (ms). No TTL."""
        return f"{self.prefix}:tokens"

    def token_serial_index(self) -> str:
        """HASH: serial -> token id (serials are unique). No TTL."""
        return f"{self.prefix}:idx:token_serial"

    def token_owner_index(self) -> str:
        """HASH: token id -> owning user id, or "" while unassigned. No TTL."""
        return f"{self.prefix}:idx:token_owner"

    def unassigned_tokens(self) -> str:
        """HASH: token id -> JSON record of each token no user holds (same shape as user_tokens)."""
        return f"{self.prefix}:tokens:unassigned"

    def bypass_codes(self) -> str:
        """ZSET: every bypass code id, scored by creation time (ms), for `get_bypass_codes`."""
        return f"{self.prefix}:bypass_codes"

    def bypass_owner_index(self) -> str:
        """HASH: bypass code id -> user id. Entries of used-up codes are pruned on read. No TTL."""
        return f"{self.prefix}:idx:bypass_owner"

    def integration(self, ikey: str) -> str:
        """HASH: an integration (name, type, role, sealed secret key, created). No TTL."""
        return f"{self.prefix}:integration:{ikey}"

    def integrations(self) -> str:
        """ZSET: integration keys scored by creation time (ms). No TTL."""
        return f"{self.prefix}:integrations"

    def groups(self) -> str:
        """ZSET: group ids scored by creation time (ms), the order of `get_groups`. No TTL."""
        return f"{self.prefix}:groups"

    def groups_version(self) -> str:
        """STRING: counter incremented after every change to a group and every deletion; read
        with each user record, so a process re-reads the group records it caches only when it
        moved. No TTL."""
        return f"{self.prefix}:groups:version"

    def account_settings(self) -> str:
        """HASH: account-wide settings changed through the Admin API. No TTL."""
        return f"{self.prefix}:settings"

    def transaction(self, txid: str) -> str:
        """STRING: JSON answer of a finished async transaction, for auth_status. TTL 10 min."""
        return f"{self.prefix}:tx:{txid}"

    def phones(self) -> str:
        """ZSET: phone ids by creation time (ms). No TTL."""
        return f"{self.prefix}:phones"

    def phone_number_index(self, number: str, extension: str) -> str:
        """SET: ids of the phones with this number and extension. No TTL."""
        return f"{self.prefix}:idx:phone_number:{number}|{extension}"

    def activation(self, code_hash: str) -> str:
        """STRING: JSON {phone_id, host} of a live activation code, named by the code's SHA-256
        (the code itself is never stored). TTL: its valid_secs."""
        return f"{self.prefix}:activation:{code_hash}"

    def tx_owner(self, txid: str) -> str:
        """STRING: user id owning a push txid (or push_id). TTL: the push's lifetime + 10 min."""
        return f"{self.prefix}:txowner:{txid}"

    def urgid(self, urgid: str) -> str:
        """STRING: ``<user id> <txid>`` of the push a phone answers by urgid. TTL as tx_owner."""
        return f"{self.prefix}:urgid:{urgid}"

    def device_signature(self, digest: str) -> str:
        """STRING: a device request signature already seen (replay guard). TTL 600 s."""
        return f"{self.prefix}:devsig:{digest}"

    def outbox(self, channel: str, destination: str) -> str:
        """LIST: messages sent to one destination (channel "sms", "voice" or "email"), each
        JSON sealed by the outbox provider, newest last, the last 100 kept, 1 hour after the
        newest. Read only through the provider's endpoint (``/outbox/v1/messages``)."""
        return f"{self.prefix}:outbox:{channel}:{destination}"

    def enrollment(self, enrollment_id: str) -> str:
        """HASH: a pending enrollment (user id, token hash, created, expires). TTL: expiry."""
        return f"{self.prefix}:enrollment:{enrollment_id}"

    def enrollment_token(self, token_hash: str) -> str:
        """STRING: enrollment id of a live enrollment link (taken once). TTL: expiry."""
        return f"{self.prefix}:enrolltoken:{token_hash}"

    def enrollments(self) -> str:
        """ZSET: pending enrollment ids scored by expiry (s). Expired ones pruned on read."""
        return f"{self.prefix}:enrollments"

    def portal_session(self, token_hash: str) -> str:
        """STRING: JSON {user_id, csrf} of a self-service portal session. TTL 15 min."""
        return f"{self.prefix}:session:{token_hash}"

    def prompt_session(self, sid: str) -> str:
        """HASH: one Duo Prompt session (client, redirect URI, state, nonce, username, the
        SHA-256 of its cookie token, the push being waited for, the last verdict). TTL 15 min."""
        return f"{self.prefix}:prompt:{sid}"

    def oauth_code(self, code_hash: str) -> str:
        """STRING: JSON grant of an authorization code (client, redirect URI, username, nonce,
        auth_result, auth_context) under the SHA-256 of the code; taken once (GETDEL). TTL 60 s."""
        return f"{self.prefix}:oauth:code:{code_hash}"

    def oauth_jti(self, client_id: str, jti_hash: str) -> str:
        """STRING: a client assertion's jti already used (SET NX: replay guard), under its
        SHA-256. TTL: until the assertion expires (at most 5 min + leeway)."""
        return f"{self.prefix}:oauth:jti:{client_id}:{jti_hash}"

    def announced_base_url(self) -> str:
        """STRING: the base URL of the last `authsvc serve` started, as versions before the
        live announcements kept it; deleted by the first service that starts now."""
        return f"{self.prefix}:service:base_url"

    def live_services(self) -> str:
        """HASH: public base URL -> ``<started ms> <expires ms>`` of each running `authsvc
        serve` (refreshed every few seconds, removed when it stops; an entry past its expiry is
        a process that died and is pruned on read). CLI commands put the URL of the one
        started last into the links they mail. No TTL (the entries expire)."""
        return f"{self.prefix}:service:live"

    def security_key_index(self) -> str:
        """HASH: webauthnkey / registration id -> ``<user id> <credential id>``. No TTL."""
        return f"{self.prefix}:idx:security_key"

    def security_key_listing(self, kind: str) -> str:
        """ZSET: webauthnkeys (kind webauthn) or U2F registration ids (kind u2f), by creation."""
        return f"{self.prefix}:security_keys:{kind}"

    def events(self) -> str:
        """Pub/sub channel: ``tx:<txid>`` and ``phone:<phone_id>`` wake-ups for every process."""
        return f"{self.prefix}:events"

    def telephony(self) -> str:
        """STREAM: telephony log records (every SMS and call, with credits), trimmed to 1M."""
        return f"{self.prefix}:telephony"

    def delivery_retry(self) -> str:
        """ZSET: webhook deliveries to retry, each JSON {message, attempts} sealed with the
        master key, scored by due ms. No TTL (drained by every process)."""
        return f"{self.prefix}:delivery:retry"

    def delivery_dead(self) -> str:
        """LIST: sealed JSON {message, attempts} the webhook never accepted (for an operator):
        the last 10,000, 7 days after the newest."""
        return f"{self.prefix}:delivery:dead"

    def adminlog(self) -> str:
        """STREAM: administrator log entries (JSON: who, action, object, description), trimmed
        to AUTHSVC_ADMINLOG_MAX_ENTRIES."""
        return f"{self.prefix}:adminlog"

    def authlog_hour(self, hour: int) -> str:
        """HASH: result (success, denied, fraud) -> authentication log records of one hour
        (unix hour), counted by log_append.lua; tagged with the stream's key, so in its slot.
        TTL 50 hours."""
        return f"{self.prefix}:{{{self.authlog()}}}:hour:{hour}"

    def authlog_denials(self) -> str:
        """LIST: the newest denied or fraud authentication log records (JSON, newest first,
        the last 100), kept by log_append.lua in the stream's slot. No TTL."""
        return f"{self.prefix}:{{{self.authlog()}}}:denials"

    def rate_limit(self, kind: str, subject: str, counter: str) -> str:
        """STRING: the theoretical arrival time (ms) of one rate-limit counter (``requests``,
        ``bad_signatures``, ``failed_auth``, ``unknown_users``) of one subject: an address
        (kind ``ip``), an ikey (``ikey``), the SHA-256 of a username (``user``), or ``all``.
        The counters of one subject share the hash tag ``{rl:<kind>:<subject>}``: one
        rate_limit.lua call checks them together. TTL: until the budget is whole again."""
        return f"{self.prefix}:{{rl:{kind}:{subject}}}:{counter}"

    def authlog(self) -> str:
        """STREAM: authentication log entries (JSON), trimmed to AUTHSVC_AUTHLOG_MAX_ENTRIES."""
        return f"{self.prefix}:authlog"
