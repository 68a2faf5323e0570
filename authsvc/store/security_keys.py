"""WebAuthn credentials and U2F registrations, and their single-use challenges, in Redis.

A credential lives in its user's slot (the sign-count check is part of the attempt script);
a global index finds it by its admin-facing id (webauthnkey / registration id).
"""

from __future__ import annotations

import json
from typing import Any

from authsvc.store.core import StoreContext, flat_to_dict

CHALLENGE_TTL_S = 300


class SecurityKeyStore:
    """Credentials and challenges."""

    def __init__(self, ctx: StoreContext) -> None:
        self._ctx = ctx
        self._keys = ctx.keys

    async def put_challenge(self, user_id: str, challenge: str, purpose: dict[str, Any]) -> None:
        await self._ctx.redis.execute("SET", self._keys.challenge(user_id, challenge),
                                      json.dumps(purpose), "EX", CHALLENGE_TTL_S)

    async def take_challenge(self, user_id: str, challenge: str) -> dict[str, Any] | None:
        """The challenge's purpose, once (None if unknown, expired or already used)."""
        raw = await self._ctx.redis.execute("GETDEL", self._keys.challenge(user_id, challenge))
        if raw is None:
            return None
        purpose: dict[str, Any] = json.loads(raw)
        return purpose

    async def add(self, user_id: str, credential_id: str, record: dict[str, Any]) -> None:
        keys = self._keys
        await self._ctx.redis.pipeline([
            ("HSET", keys.user_security_keys(user_id), credential_id, json.dumps(record)),
            ("HSET", keys.security_key_index(), record["key"], f"{user_id} {credential_id}")])
        await self._ctx.scripts.append_to_listing(keys.security_key_listing(record["kind"]),
                                                  record["created"] * 1000, record["key"])

    async def of_user(self, user_id: str) -> dict[str, dict[str, Any]]:
        """credential id -> record."""
        raw = flat_to_dict(await self._ctx.redis.execute(
            "HGETALL", self._keys.user_security_keys(user_id)))
        return {cred_id: json.loads(value) for cred_id, value in raw.items()}

    async def locate(self, key: str) -> tuple[str, str] | None:
        """(user id, credential id) of an admin-facing id."""
        value = await self._ctx.redis.execute("HGET", self._keys.security_key_index(), key)
        if not value:
            return None
        user_id, _, credential_id = str(value).partition(" ")
        return user_id, credential_id

    async def page(self, kind: str, offset: int, limit: int) -> tuple[list[str], int]:
        ids, total = await self._ctx.redis.pipeline([
            ("ZRANGE", self._keys.security_key_listing(kind), offset, offset + limit - 1),
            ("ZCARD", self._keys.security_key_listing(kind))])
        return list(ids), int(total)

    async def delete(self, key: str, kind: str) -> bool:
        located = await self.locate(key)
        keys = self._keys
        commands: list[tuple[str | int, ...]] = [
            ("HDEL", keys.security_key_index(), key),
            ("ZREM", keys.security_key_listing(kind), key)]
        if located is not None:
            commands.append(("HDEL", keys.user_security_keys(located[0]), located[1]))
        await self._ctx.redis.pipeline(commands)
        return located is not None
