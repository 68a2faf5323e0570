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

    # --- global indexes and collections (no tag; never mixed with a user's keys in a script) -----

    def username_index(self) -> str:
        """HASH: lowercased username or alias -> user id. Claimed atomically by a script. No TTL."""
        return f"{self.prefix}:idx:username"

    def users(self) -> str:
        """ZSET: user ids scored by creation time (ms), the order of `get_users`. No TTL."""
        return f"{self.prefix}:users"

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

    def account_settings(self) -> str:
        """HASH: account-wide settings changed through the Admin API. No TTL."""
        return f"{self.prefix}:settings"

    def transaction(self, txid: str) -> str:
        """STRING: JSON answer of a finished async transaction, for auth_status. TTL 10 min."""
        return f"{self.prefix}:tx:{txid}"

    def authlog(self) -> str:
        """STREAM: authentication log entries (JSON), trimmed to AUTHSVC_AUTHLOG_MAX_ENTRIES."""
        return f"{self.prefix}:authlog"
