"""Pending enrollments (emailed links) and self-service portal sessions in Redis.

Links and session cookies are random tokens that only ever reach Redis as SHA-256 hashes.
A link is consumed with GETDEL, so two submissions of one link cannot both enroll a device.
"""

from __future__ import annotations

import json
from typing import Any

from authsvc.store.core import StoreContext, flat_to_dict


class EnrollmentStore:
    """Create, find, consume and drop enrollments; portal sessions."""

    def __init__(self, ctx: StoreContext) -> None:
        self._ctx = ctx
        self._keys = ctx.keys

    async def put(self, record: dict[str, str], token_hash: str, expires: int) -> None:
        keys, enrollment_id = self._keys, record["enrollment_id"]
        flat = [item for pair in record.items() for item in pair]
        await self._ctx.redis.pipeline([
            ("HSET", keys.enrollment(enrollment_id), *flat, "token_hash", token_hash),
            ("EXPIREAT", keys.enrollment(enrollment_id), expires),
            ("SET", keys.enrollment_token(token_hash), enrollment_id, "EXAT", expires),
            ("ZADD", keys.enrollments(), expires, enrollment_id)])

    async def get(self, enrollment_id: str) -> dict[str, str]:
        return flat_to_dict(await self._ctx.redis.execute(
            "HGETALL", self._keys.enrollment(enrollment_id)))

    async def by_token(self, token_hash: str) -> dict[str, str]:
        """The live enrollment of a link ({} if unknown, expired or used)."""
        enrollment_id = await self._ctx.redis.execute("GET", self._keys.enrollment_token(token_hash))
        return await self.get(enrollment_id) if enrollment_id else {}

    async def take(self, token_hash: str) -> dict[str, str]:
        """Consume a link: the enrollment it opened, once ({} afterwards)."""
        enrollment_id = await self._ctx.redis.execute("GETDEL", self._keys.enrollment_token(token_hash))
        if not enrollment_id:
            return {}
        record = await self.get(enrollment_id)
        await self.drop(enrollment_id)
        return record

    async def retoken(self, record: dict[str, str], new_hash: str) -> None:
        """Replace the link of an enrollment (resend), keeping its expiry."""
        keys = self._keys
        expires = int(record["expires"])
        await self._ctx.redis.pipeline([
            ("DEL", keys.enrollment_token(record["token_hash"])),
            ("HSET", keys.enrollment(record["enrollment_id"]), "token_hash", new_hash),
            ("SET", keys.enrollment_token(new_hash), record["enrollment_id"], "EXAT", expires)])

    async def drop(self, enrollment_id: str) -> None:
        record = await self.get(enrollment_id)
        commands: list[tuple[str | int, ...]] = [
            ("DEL", self._keys.enrollment(enrollment_id)),
            ("ZREM", self._keys.enrollments(), enrollment_id)]
        if record.get("token_hash"):
            commands.append(("DEL", self._keys.enrollment_token(record["token_hash"])))
        await self._ctx.redis.pipeline(commands)

    async def pending(self, now: int) -> list[dict[str, str]]:
        """Every enrollment still pending, soonest to expire first."""
        keys = self._keys
        await self._ctx.redis.execute("ZREMRANGEBYSCORE", keys.enrollments(), "-inf", now)
        ids = await self._ctx.redis.execute("ZRANGE", keys.enrollments(), 0, -1)
        records = await self._ctx.redis.pipeline([("HGETALL", keys.enrollment(i)) for i in ids])
        return [flat_to_dict(record) for record in records if record]

    async def put_session(self, token_hash: str, session: dict[str, Any], ttl: int) -> None:
        await self._ctx.redis.execute("SET", self._keys.portal_session(token_hash),
                                      json.dumps(session), "EX", ttl)

    async def session(self, token_hash: str) -> dict[str, Any] | None:
        raw = await self._ctx.redis.execute("GET", self._keys.portal_session(token_hash))
        if raw is None:
            return None
        session: dict[str, Any] = json.loads(raw)
        return session

    async def drop_session(self, token_hash: str) -> None:
        await self._ctx.redis.execute("DEL", self._keys.portal_session(token_hash))
