"""Bypass codes in Redis: per-user hash of keyed code hashes, plus a global listing.

The codes themselves never reach Redis: fields are keyed hashes (`SecretBox.code_hash`), values
are metadata. Adding is one script per user (limit, duplicates, replace-or-preserve all at once).
The global listing and id->user index are updated after it and pruned lazily when they point at a
code that is gone (used up, expired, replaced).
"""

from __future__ import annotations

from collections.abc import Sequence

from authsvc.errors import Conflict, NotFound
from authsvc.model.bypass import BypassCode, NewBypassCode
from authsvc.store.core import StoreContext, flat_to_dict
from authsvc.store.records import bypass_from_json, bypass_to_json
from authsvc.store.scripts import ScriptName


class BypassStore:
    """Add, list and delete bypass codes."""

    def __init__(self, ctx: StoreContext) -> None:
        self._ctx = ctx
        self._keys = ctx.keys

    async def add(self, user_id: str, codes: Sequence[NewBypassCode], *, preserve: bool,
                  now_ms: int, limit: int) -> None:
        """Store codes for a user, all or nothing.

        Raises NotFound (no user), Conflict (over `limit` live codes, or a duplicate code).
        """
        keys = self._keys
        args: list[str | int] = [now_ms, "1" if preserve else "0", limit]
        for code in codes:
            args += [code.code_hash, bypass_to_json(code.meta)]
        reply = await self._ctx.scripts.run(
            ScriptName.BYPASS_ADD, [keys.user(user_id), keys.user_bypass(user_id)], args)
        if reply[0] == 4:
            raise NotFound("user_id")
        if reply[0] == 2:
            raise Conflict(f"a user may hold at most {limit} bypass codes "
                           f"(has {reply[1]}, asked for {len(codes)} more)")
        if reply[0] == 3:
            raise Conflict("codes (a code is already in use by this user)")
        removed = reply[1:]
        commands: list[tuple[str | int, ...]] = []
        if removed:
            commands += [("ZREM", keys.bypass_codes(), *removed),
                         ("HDEL", keys.bypass_owner_index(), *removed)]
        commands += [("HSET", keys.bypass_owner_index(), code.meta.code_id, user_id)
                     for code in codes]
        await self._ctx.redis.pipeline(commands)
        await self._ctx.scripts.append_to_listing(keys.bypass_codes(), now_ms,
                                                  *(code.meta.code_id for code in codes))

    async def of_user(self, user_id: str, now_ms: int) -> list[BypassCode]:
        """The user's live codes (not expired), oldest first."""
        raw = flat_to_dict(await self._ctx.redis.execute("HGETALL", self._keys.user_bypass(user_id)))
        codes = [bypass_from_json(value, user_id) for value in raw.values()]
        live = [code for code in codes if not code.expires_ms or code.expires_ms > now_ms]
        return sorted(live, key=lambda code: (code.created, code.code_id))

    async def page(self, offset: int, limit: int, now_ms: int) -> tuple[list[BypassCode], int]:
        """One page of every user's live codes, and the total count (stale entries pruned)."""
        redis, keys = self._ctx.redis, self._keys
        ids, total = await redis.pipeline([
            ("ZRANGE", keys.bypass_codes(), offset, offset + limit - 1),
            ("ZCARD", keys.bypass_codes()),
        ])
        owners = await redis.execute("HMGET", keys.bypass_owner_index(), *ids) if ids else []
        by_user: dict[str, list[BypassCode]] = {}
        for user_id in {owner for owner in owners if owner}:
            by_user[user_id] = await self.of_user(user_id, now_ms)
        found = {code.code_id: code for codes in by_user.values() for code in codes}
        stale = [code_id for code_id in ids if code_id not in found]
        if stale:
            await redis.pipeline([("ZREM", keys.bypass_codes(), *stale),
                                  ("HDEL", keys.bypass_owner_index(), *stale)])
        return [found[code_id] for code_id in ids if code_id in found], int(total) - len(stale)

    async def delete(self, code_id: str) -> None:
        """Delete one code by id; raises NotFound if there is no such live code."""
        redis, keys = self._ctx.redis, self._keys
        user_id = await redis.execute("HGET", keys.bypass_owner_index(), code_id)
        deleted = 0
        if user_id:
            deleted = await self._ctx.scripts.run(
                ScriptName.BYPASS_DELETE, [keys.user_bypass(user_id)], [code_id])
        await redis.pipeline([("ZREM", keys.bypass_codes(), code_id),
                              ("HDEL", keys.bypass_owner_index(), code_id)])
        if not deleted:
            raise NotFound("bypass_code_id")
