"""Global keys: indexes and collections with no hash tag (never mixed with a user's keys in a
script). Each builder says the Redis type, what it holds, and its TTL."""

from __future__ import annotations

from authsvc.store.keys.listing import ListingKeys


class SharedKeys:
    """The builders of untagged keys (mixed into `Keys`)."""

    __slots__ = ()
    prefix: str

    # --- global indexes and collections (no tag; never mixed with a user's keys in a script) -----

    def schema(self) -> str:
        """STRING: the highest schema version of the versions that served this store
        (`store.SCHEMA_VERSION`); absent: only versions before the mark. No TTL."""
        return f"{self.prefix}:schema"

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
        """ZSET: user ids scored by creation time (ms), as versions before `users_listing`
        kept them (read, never appended to). No TTL."""
        return f"{self.prefix}:users"

    def users_listing(self) -> ListingKeys:
        """The users in creation order (the order of `get_users`), in buckets."""
        return ListingKeys(self.users())

    def unenrolled_sweep(self) -> str:
        """STRING: creation time (ms) up to which users were checked for the "Not enrolled"
        lockout; the next sweep starts after it. No TTL."""
        return f"{self.prefix}:sweep:unenrolled"

    def unenrolled_sweep_lock(self) -> str:
        """STRING: held (SET NX PX) by the one process sweeping now. TTL: the sweep interval."""
        return f"{self.prefix}:sweep:unenrolled:lock"

    def trash_sweep_lock(self) -> str:
        """STRING: held (SET NX PX) by the one process emptying the Trash, expiring inactive
        users or rebuilding the counters. TTL: the sweep interval."""
        return f"{self.prefix}:sweep:trash:lock"


    def tokens(self) -> str:
        """ZSET: token ids scored by creation time (ms), as versions before `tokens_listing`
        kept them (read, never appended to). No TTL."""
        return f"{self.prefix}:tokens"

    def tokens_listing(self) -> ListingKeys:
        """The tokens in creation order (the order of `get_tokens`), in buckets."""
        return ListingKeys(self.tokens())

    def token_serial_index(self) -> str:
        """HASH: serial -> token id (serials are unique). No TTL."""
        return f"{self.prefix}:idx:token_serial"

    def token_holders(self, token_id: str) -> str:
        """SET: ids of the users holding the token (each has its own copy of the record). Written
        before a copy is made and after one is removed, so it never misses a holder. No TTL."""
        return f"{self.prefix}:idx:token_holders:{token_id}"

    def token_records(self) -> str:
        """HASH: token id -> JSON record of every token (type, serial, sealed seed, the counter
        a new holder starts from); the holders' copies are in their token hashes. No TTL."""
        return f"{self.prefix}:tokens:records"

    def bypass_codes(self) -> str:
        """ZSET: bypass code ids by creation time (ms), as versions before
        `bypass_codes_listing` kept them (read, never appended to)."""
        return f"{self.prefix}:bypass_codes"

    def bypass_codes_listing(self) -> ListingKeys:
        """Every bypass code id in creation order (the order of `get_bypass_codes`), in
        buckets."""
        return ListingKeys(self.bypass_codes())

    def bypass_owner_index(self) -> str:
        """HASH: bypass code id -> ``<user id> <place>`` (its place in the listing; versions
        before the listing wrote the user id alone). Entries of used-up codes are pruned on
        read. No TTL."""
        return f"{self.prefix}:idx:bypass_owner"

    def integration(self, ikey: str) -> str:
        """HASH: an integration (name, type, role, sealed secret key, created). No TTL."""
        return f"{self.prefix}:integration:{ikey}"

    def integrations(self) -> str:
        """ZSET: integration keys by creation time (ms), as versions before
        `integrations_listing` kept them (read, never appended to). No TTL."""
        return f"{self.prefix}:integrations"

    def integrations_listing(self) -> ListingKeys:
        """The integrations in creation order, in buckets."""
        return ListingKeys(self.integrations())

    def groups(self) -> str:
        """ZSET: group ids by creation time (ms), as versions before `groups_listing` kept them
        (read, never appended to). No TTL."""
        return f"{self.prefix}:groups"

    def groups_listing(self) -> ListingKeys:
        """The groups in creation order (the order of `get_groups`), in buckets."""
        return ListingKeys(self.groups())

    def account_settings(self) -> str:
        """HASH: account-wide settings changed through the Admin API, with two counters: the
        settings' version `_version` (moved by every settings change) and the groups' version
        `_groups_version` (moved after every change to a group and every deletion). Both are
        read with each user record, so a process re-reads what it caches only when one moved.
        No TTL."""
        return f"{self.prefix}:settings"

    def transaction(self, txid: str) -> str:
        """STRING: JSON answer of a finished async transaction, for auth_status. TTL 10 min."""
        return f"{self.prefix}:tx:{txid}"

    def phones(self) -> str:
        """ZSET: phone ids by creation time (ms), as versions before `phones_listing` kept them
        (read, never appended to). No TTL."""
        return f"{self.prefix}:phones"

    def phones_listing(self) -> ListingKeys:
        """The phones in creation order (the order of `get_phones`), in buckets."""
        return ListingKeys(self.phones())

    def unfinished_phones(self) -> str:
        """ZSET: the Duo Mobile phones prompt sessions began for inline enrollment and nobody
        finished yet, by the time (ms) after which their session cannot finish them. Entries
        leave when the phone is attached at activation or deleted (the Trash sweep deletes
        those due that nobody holds). No TTL."""
        return f"{self.prefix}:phones:unfinished"

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
        """HASH: webauthnkey / registration id -> ``<user id> <credential id> <place>`` (the
        place in its kind's listing; versions before the listings wrote no place). No TTL."""
        return f"{self.prefix}:idx:security_key"

    def security_key_listing(self, kind: str) -> str:
        """ZSET: webauthnkeys (kind webauthn) or U2F registration ids (kind u2f), by creation,
        as versions before `security_keys_listing` kept them (read, never appended to)."""
        return f"{self.prefix}:security_keys:{kind}"

    def security_keys_listing(self, kind: str) -> ListingKeys:
        """One kind's security keys in creation order (the order of the panel's list), in
        buckets."""
        return ListingKeys(self.security_key_listing(kind))

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
