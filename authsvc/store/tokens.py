"""Hardware tokens in Redis.

A token record lives in exactly one hash: its owner's token hash (so the passcode script can
commit its counter with the owner's lockout count) or the global unassigned hash. Moving it is
take-then-put: `hash_take` removes the only copy atomically, so no passcode can commit to a copy
that is being moved; if the put fails (Redis went away between two calls) the record is put back
where it came from, and only if that fails too is it lost, which is logged with the token id.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from authsvc.errors import Conflict, NotFound
from authsvc.model.tokens import Token
from authsvc.store.core import StoreContext, flat_to_dict
from authsvc.store.records import token_from_json, token_to_json
from authsvc.store.redis_client import RedisUnavailable
from authsvc.store.scripts import ScriptName

log = logging.getLogger(__name__)


class TokenStore:
    """CRUD, assignment and counter moves for hardware tokens."""

    def __init__(self, ctx: StoreContext) -> None:
        self._ctx = ctx
        self._keys = ctx.keys

    def _home(self, owner: str | None) -> str:
        return self._keys.user_tokens(owner) if owner else self._keys.unassigned_tokens()

    async def create(self, token: Token, *, order_ms: int) -> None:
        """Store a new unassigned token, listed at `order_ms`; Conflict when the serial is taken."""
        redis, keys = self._ctx.redis, self._keys
        claimed = await redis.execute("HSETNX", keys.token_serial_index(), token.serial,
                                      token.token_id)
        if not claimed:
            raise Conflict(f"serial already in use: {token.serial}")
        await redis.pipeline([
            ("HSET", keys.unassigned_tokens(), token.token_id, token_to_json(token)),
            ("HSET", keys.token_owner_index(), token.token_id, ""),
        ])
        await self._ctx.scripts.append_to_listing(keys.tokens(), order_ms, token.token_id)

    async def owner_of(self, token_id: str) -> str | None:
        """The owning user id, "" when unassigned; raises NotFound for an unknown token."""
        owner = await self._ctx.redis.execute("HGET", self._keys.token_owner_index(), token_id)
        if owner is None:
            raise NotFound("token_id")
        return str(owner)

    async def get(self, token_id: str) -> Token | None:
        """The token, or None."""
        try:
            owner = await self.owner_of(token_id) or None
        except NotFound:
            return None
        raw = await self._ctx.redis.execute("HGET", self._home(owner), token_id)
        return token_from_json(raw, owner) if raw else None

    async def get_many(self, token_ids: Iterable[str]) -> list[Token]:
        """The tokens that exist among `token_ids`, in that order."""
        ids = list(token_ids)
        if not ids:
            return []
        owners = await self._ctx.redis.execute("HMGET", self._keys.token_owner_index(), *ids)
        present = [(tid, owner or None) for tid, owner in zip(ids, owners, strict=True)
                   if owner is not None]
        raws = await self._ctx.redis.pipeline(
            [("HGET", self._home(owner), tid) for tid, owner in present])
        return [token_from_json(raw, owner)
                for (_, owner), raw in zip(present, raws, strict=True) if isinstance(raw, str)]

    async def by_serial(self, serial: str) -> Token | None:
        """The token with this serial, or None."""
        token_id = await self._ctx.redis.execute("HGET", self._keys.token_serial_index(), serial)
        return await self.get(token_id) if token_id else None

    async def page(self, offset: int, limit: int) -> tuple[list[Token], int]:
        """One page of tokens in creation order, and the total count."""
        ids, total = await self._ctx.redis.pipeline([
            ("ZRANGE", self._keys.tokens(), offset, offset + limit - 1),
            ("ZCARD", self._keys.tokens()),
        ])
        return await self.get_many(ids), int(total)

    async def of_user(self, user_id: str) -> list[Token]:
        """The tokens a user holds, oldest first."""
        raw = flat_to_dict(await self._ctx.redis.execute("HGETALL", self._keys.user_tokens(user_id)))
        tokens = [token_from_json(value, user_id) for value in raw.values()]
        return sorted(tokens, key=lambda token: (token.created, token.token_id))

    async def delete(self, token: Token) -> None:
        """Remove the token everywhere."""
        keys = self._keys
        await self._ctx.redis.pipeline([
            ("HDEL", self._home(token.owner), token.token_id),
            ("HDEL", keys.token_serial_index(), token.serial),
            ("HDEL", keys.token_owner_index(), token.token_id),
            ("ZREM", keys.tokens(), token.token_id),
        ])

    async def move(self, token_id: str, source: str | None, target: str | None) -> bool:
        """Move the record from `source`'s hash to `target`'s; False if it was not at `source`."""
        raw = await self._ctx.scripts.run(ScriptName.HASH_TAKE, [self._home(source)], [token_id])
        if raw is None:
            return False
        try:
            await self._ctx.redis.pipeline([
                ("HSET", self._home(target), token_id, raw),
                ("HSET", self._keys.token_owner_index(), token_id, target or ""),
            ])
        except RedisUnavailable:
            await self._put_back(token_id, source, raw)
            raise
        return True

    async def _put_back(self, token_id: str, source: str | None, raw: str) -> None:
        try:
            await self._ctx.redis.execute("HSET", self._home(source), token_id, raw)
        except RedisUnavailable:
            log.error("token %s lost while moving between owners; re-import it", token_id)

    async def advance_counter(self, token: Token, counter: int) -> bool:
        """Set an HOTP token's next counter if it moves forward; False if it would not."""
        reply = await self._ctx.scripts.run(
            ScriptName.HOTP_SET_COUNTER, [self._home(token.owner)], [token.token_id, counter])
        if reply == 0:
            raise NotFound("token_id")
        return bool(reply == 1)
