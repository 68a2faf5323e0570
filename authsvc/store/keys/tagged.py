"""Keys under a hash tag: one user's (``{u:<user_id>}``), one group's, one phone's, the
administrators', and the user counters' shards (``{cs<n>}``, in the slot of the users they
count). Each builder says the Redis type, what it holds, and its TTL."""

from __future__ import annotations

from authsvc.store.slots import key_slot, shard_tag

TOKEN_COPY_PREFIX = "t:"  # noqa: S105 - a field prefix, not a secret
"""The user hash's fields ``t:<token id>`` hold the user's copy of each hardware token it holds
(JSON: the counter, the last TOTP step, the resync state): in the user's slot, so the passcode
script commits a copy with the lockout count; ~64 B a user where a hash of their own cost
~170 B."""


class TaggedKeys:
    """The builders of keys that scripts touch together (mixed into `Keys`)."""

    __slots__ = ()
    prefix: str

    # --- one user: hash tag {u:<user_id>} -------------------------------------------------------

    def user(self, user_id: str) -> str:
        """HASH: the user record (profile, status, lockout counters, aliases as JSON). No TTL."""
        return f"{self.prefix}:{{u:{user_id}}}:user"

    def user_tokens(self, user_id: str) -> str:
        """HASH: token id -> the user's copy of each hardware token it holds, as versions before
        `TOKEN_COPY_PREFIX` kept them: read with the user hash's copies, moved into it by the
        first script that writes a copy (lib/token_copies.lua). No TTL."""
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

    def answer_signature(self, user_id: str, digest: str) -> str:
        """STRING: the signature of a phone's answer to one of the user's pushes, already seen
        (replay guard, set by push_resolve.lua in the user's slot). TTL 600 s."""
        return f"{self.prefix}:{{u:{user_id}}}:devsig:{digest}"

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
        """HASH: urgid -> JSON entry (expiry ms, owner, the transaction as the phone lists it)
        of each push waiting for the phone's answer (push_deliver.lua). TTL: the latest push's
        expiry + 10 min. (Named ``pending``: the ``inbox`` ZSET of earlier versions is
        another type.)"""
        return f"{self.prefix}:{{p:{phone_id}}}:pending"

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

    def admin_units(self) -> str:
        """ZSET: Administrative Unit ids by creation time (ms). No TTL."""
        return f"{self.prefix}:{{admins}}:units"

    def admin_unit(self, unit_id: str) -> str:
        """HASH: an Administrative Unit (name, description, restrict_by_groups and
        restrict_by_integrations "1"/"0", created). No TTL."""
        return f"{self.prefix}:{{admins}}:unit:{unit_id}"

    def admin_unit_members(self, unit_id: str, kind: str) -> str:
        """SET: ids of the unit's members of one kind (``admin`` ids, ``group`` ids,
        ``integration`` keys). Under {admins} with the unit, so the unit scripts check an
        administrator's role and the unit's existence in the same call. No TTL."""
        return f"{self.prefix}:{{admins}}:unit:{unit_id}:{kind}"

    def admin_unit_names(self) -> str:
        """HASH: lowercased unit name -> unit id (names are unique). No TTL."""
        return f"{self.prefix}:{{admins}}:unit_names"

    # --- user counters: one shard per hash slot, in the slot of the users it counts ----------

    def user_slot(self, user_id: str) -> int:
        """The hash slot of every key of this user (its tag ``{u:<user_id>}``)."""
        return key_slot(self.user(user_id))

    def shard_counts(self, slot: int) -> str:
        """HASH: bucket (total, active, bypass, disabled, locked_out, not_enrolled, trash) ->
        how many users of this slot are in it. Changed only by the scripts' count_user. No TTL."""
        return f"{self.prefix}:{{{shard_tag(slot)}}}:counts"

    def shard_activity(self, slot: int) -> str:
        """ZSET: id of each user of this slot outside the Trash -> last activity (s): the last
        login, else the creation. "Inactive" and inactive-user expiration read it. No TTL."""
        return f"{self.prefix}:{{{shard_tag(slot)}}}:activity"

    def shard_locked(self, slot: int) -> str:
        """ZSET: id of each locked-out user of this slot -> locked_at (ms), so an expired
        lockout stops counting when it expires. No TTL."""
        return f"{self.prefix}:{{{shard_tag(slot)}}}:locked"

    def shard_trash(self, slot: int) -> str:
        """ZSET: id of each user of this slot in the Trash -> when it was sent there (ms): the
        Trash view and the sweep that empties it. No TTL."""
        return f"{self.prefix}:{{{shard_tag(slot)}}}:trash"

    def counting(self, user_id: str) -> list[str]:
        """The keys count_user (lua/lib/user_counts.lua) needs after the user hash: the user's
        phones, tokens and security keys, and its slot's counts, activity, locked and trash."""
        slot = self.user_slot(user_id)
        return [self.user_phones(user_id), self.user_tokens(user_id),
                self.user_security_keys(user_id), self.shard_counts(slot),
                self.shard_activity(slot), self.shard_locked(slot), self.shard_trash(slot)]

    def count_slots(self) -> str:
        """STRING, a bitmap of 16,384 bits (2 KiB at most): bit S is set once slot S has a
        counter shard (before a user is created there). The readers of the counters sum these
        shards and no others. No TTL."""
        return f"{self.prefix}:counts:slot_bits"

    def count_slots_set(self) -> str:
        """SET: what versions before the bitmap kept (slot numbers; about 30 B per user at
        10,000 users); read along with the bitmap, never written."""
        return f"{self.prefix}:counts:slots"

    def counts_ready(self) -> str:
        """STRING: present once the counters were rebuilt from every user (a store that held
        users before counters existed is rebuilt once, at start). No TTL."""
        return f"{self.prefix}:counts:ready"
