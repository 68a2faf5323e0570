"""Pending enrollments (emailed links) and self-service portal sessions in Redis.

Links and session cookies are random tokens that reach Redis as SHA-256 hashes (how they are
found); an enrollment link is also kept sealed with the master key, never in clear, so that a
resend can mail the same link. A link is consumed with GETDEL, so two submissions of one link
cannot both enroll a device.
"""

from __future__ import annotations

import json

from authsvc.model.enrollments import PendingEnrollment, PortalSession
from authsvc.store.core import StoreContext, flat_to_dict


def _from_hash(data: dict[str, str]) -> PendingEnrollment | None:
    if not data:
        return None
    return PendingEnrollment(
        enrollment_id=data["enrollment_id"], user_id=data["user_id"],
        username=data.get("username", ""), created=int(data["created"]),
        expires=int(data["expires"]), token_hash=data.get("token_hash", ""),
        sealed_token=data.get("sealed_token", ""), email=data.get("email", ""))


class EnrollmentStore:
    """Create, find, consume and drop enrollments; portal sessions."""

    def __init__(self, ctx: StoreContext) -> None:
        self._ctx = ctx
        self._keys = ctx.keys

    async def put(self, record: PendingEnrollment) -> None:
        keys, enrollment_id, expires = self._keys, record.enrollment_id, record.expires
        await self._ctx.redis.pipeline([
            ("HSET", keys.enrollment(enrollment_id), "enrollment_id", enrollment_id,
             "user_id", record.user_id, "username", record.username,
             "created", record.created, "expires", expires, "token_hash", record.token_hash,
             "sealed_token", record.sealed_token, "email", record.email),
            ("EXPIREAT", keys.enrollment(enrollment_id), expires),
            ("SET", keys.enrollment_token(record.token_hash), enrollment_id, "EXAT", expires),
            ("ZADD", keys.enrollments(), expires, enrollment_id)])

    async def get(self, enrollment_id: str) -> PendingEnrollment | None:
        return _from_hash(flat_to_dict(await self._ctx.redis.execute(
            "HGETALL", self._keys.enrollment(enrollment_id))))

    async def by_token(self, token_hash: str) -> PendingEnrollment | None:
        """The live enrollment of a link (None if unknown, expired or used)."""
        enrollment_id = await self._ctx.redis.execute("GET", self._keys.enrollment_token(token_hash))
        return await self.get(enrollment_id) if enrollment_id else None

    async def take(self, token_hash: str) -> PendingEnrollment | None:
        """Consume a link: the enrollment it opened, once (None afterwards)."""
        enrollment_id = await self._ctx.redis.execute("GETDEL", self._keys.enrollment_token(token_hash))
        if not enrollment_id:
            return None
        record = await self.get(enrollment_id)
        await self.drop(enrollment_id)
        return record

    async def retoken(self, record: PendingEnrollment, new_hash: str, sealed: str) -> None:
        """Replace the link of an enrollment, keeping its expiry (a resend of an enrollment
        stored before links were kept sealed)."""
        keys = self._keys
        await self._ctx.redis.pipeline([
            ("DEL", keys.enrollment_token(record.token_hash)),
            ("HSET", keys.enrollment(record.enrollment_id), "token_hash", new_hash,
             "sealed_token", sealed),
            ("SET", keys.enrollment_token(new_hash), record.enrollment_id, "EXAT",
             record.expires)])

    async def drop(self, enrollment_id: str) -> None:
        record = await self.get(enrollment_id)
        commands: list[tuple[str | int, ...]] = [
            ("DEL", self._keys.enrollment(enrollment_id)),
            ("ZREM", self._keys.enrollments(), enrollment_id)]
        if record is not None and record.token_hash:
            commands.append(("DEL", self._keys.enrollment_token(record.token_hash)))
        await self._ctx.redis.pipeline(commands)

    async def pending(self, now: int) -> list[PendingEnrollment]:
        """Every enrollment still pending, soonest to expire first."""
        keys = self._keys
        await self._ctx.redis.execute("ZREMRANGEBYSCORE", keys.enrollments(), "-inf", now)
        ids = await self._ctx.redis.execute("ZRANGE", keys.enrollments(), 0, -1)
        replies = await self._ctx.redis.pipeline([("HGETALL", keys.enrollment(i)) for i in ids])
        records = [_from_hash(flat_to_dict(reply)) for reply in replies]
        return [record for record in records if record is not None]

    async def put_session(self, token_hash: str, session: PortalSession, ttl: int) -> None:
        await self._ctx.redis.execute("SET", self._keys.portal_session(token_hash),
                                      json.dumps({"user_id": session.user_id,
                                                  "csrf": session.csrf}), "EX", ttl)

    async def session(self, token_hash: str) -> PortalSession | None:
        raw = await self._ctx.redis.execute("GET", self._keys.portal_session(token_hash))
        if raw is None:
            return None
        data = json.loads(raw)
        return PortalSession(str(data["user_id"]), str(data["csrf"]))

    async def drop_session(self, token_hash: str) -> None:
        await self._ctx.redis.execute("DEL", self._keys.portal_session(token_hash))
