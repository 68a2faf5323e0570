"""Administrators' internal subjects in Redis (model/admin_factors.py): a user record, phones and
security keys in the user keyspace, so the decision scripts treat them as any user's, but
written without the name index, the users listing, the phone listing and number index, and the
security-key index and listings, which is what keeps them out of every administrator's view.
"""

from __future__ import annotations

from authsvc.model.phones import Phone
from authsvc.model.security_keys import SecurityKey
from authsvc.model.users import User
from authsvc.store.core import StoreContext
from authsvc.store.phones import phone_profile
from authsvc.store.records import user_to_hash
from authsvc.store.security_keys import key_to_json


class AdminSubjectStore:
    """Create and remove internal subjects and their devices."""

    def __init__(self, ctx: StoreContext) -> None:
        self._ctx = ctx
        self._keys = ctx.keys

    async def create(self, user: User) -> None:
        """Write the subject's record (no name claimed, not listed, not counted)."""
        flat = [item for pair in user_to_hash(user).items() for item in pair]
        await self._ctx.redis.execute("HSET", self._keys.user(user.user_id), *flat)

    async def claim(self, admin_id: str, subject: str) -> str:
        """Remember `subject` as the administrator's unless one is already there; returns the
        administrator's subject (two setups racing agree on one)."""
        _, held = await self._ctx.redis.pipeline([
            ("HSETNX", self._keys.admin(admin_id), "subject", subject),
            ("HGET", self._keys.admin(admin_id), "subject")])
        return str(held)

    async def add_phone(self, user_id: str, phone: Phone) -> None:
        """An unlisted phone attached to the subject (it has no number to index)."""
        keys = self._keys
        fields = [item for pair in phone_profile(phone).items() for item in pair]
        await self._ctx.redis.pipeline([
            ("HSET", keys.phone(phone.phone_id), *fields, "activated", "0", "cred", "0"),
            ("ZADD", keys.user_phones(user_id), "NX", phone.created, phone.phone_id),
            ("SADD", keys.phone_users(phone.phone_id), user_id)])

    async def remove_phone(self, user_id: str, phone_id: str) -> None:
        keys = self._keys
        await self._ctx.redis.pipeline([
            ("ZREM", keys.user_phones(user_id), phone_id),
            ("HDEL", keys.user_mobile_otp(user_id), phone_id),
            ("DEL", keys.phone(phone_id), keys.phone_users(phone_id), keys.phone_inbox(phone_id))])

    async def add_key(self, user_id: str, key: SecurityKey) -> None:
        """An unlisted security key of the subject."""
        await self._ctx.redis.execute("HSET", self._keys.user_security_keys(user_id),
                                      key.credential_id, key_to_json(key))

    async def remove_key(self, user_id: str, credential_id: str) -> None:
        await self._ctx.redis.execute("HDEL", self._keys.user_security_keys(user_id),
                                      credential_id)

    async def set_status_active(self, user_id: str) -> None:
        """Lift the subject's lockout (an Owner's reset of the administrator)."""
        await self._ctx.redis.execute("HSET", self._keys.user(user_id), "status", "active",
                                      "fails", "0", "lockout_reason", "", "locked_at", "0")

    async def forget(self, user_id: str, phone_ids: list[str]) -> None:
        """Delete the subject, its phones and every key of its slot the panel wrote."""
        keys = self._keys
        commands: list[tuple[str | int, ...]] = [
            ("DEL", keys.user(user_id), keys.user_phones(user_id), keys.user_mobile_otp(user_id),
             keys.user_security_keys(user_id), keys.user_pushes(user_id))]
        commands += [("DEL", keys.phone(p), keys.phone_users(p), keys.phone_inbox(p))
                     for p in phone_ids]
        await self._ctx.redis.pipeline(commands)
