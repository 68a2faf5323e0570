"""Bypass codes in Redis: per-user hash of keyed code hashes, plus a global listing.

The codes themselves never reach Redis: fields are keyed hashes (`SecretBox.code_hash`), values
are metadata. Adding is one script per user (limit, duplicates, replace-or-preserve all at once).
The global listing (creation order, in buckets: `store/listing.py`) and the id -> ``<user id>
<place>`` index are updated after it and pruned lazily when they point at a code that is gone
(used up, expired, replaced).
"""

from __future__ import annotations

from collections.abc import Sequence

from authsvc.errors import Conflict, NotFound
from authsvc.model.bypass import BypassCode, NewBypassCode
from authsvc.store.core import StoreContext, flat_to_dict
from authsvc.store.listing import Listing
from authsvc.store.records import bypass_from_json, bypass_to_json
from authsvc.store.scripts import ScriptName


def owner_of(value: object) -> tuple[str, int | None] | None:
    """An owner index entry: (user id, place in the listing; None as older versions wrote)."""
    if not value:
        return None
    user_id, *place = str(value).split(" ")
    return user_id, int(place[0]) if place else None


class BypassStore:
    """Add, list and delete bypass codes."""

    def __init__(self, ctx: StoreContext) -> None:
        self._ctx = ctx
        self._keys = ctx.keys
        self._listing = Listing(ctx, ctx.keys.bypass_codes_listing())

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
        await self.forget(reply[1:])  # the codes these replaced
        await self._ctx.redis.pipeline([("HSET", keys.bypass_owner_index(), code.meta.code_id,
                                         user_id) for code in codes])
        for code in codes:
            place = await self._listing.append(code.meta.code_id, now_ms)
            await self._ctx.redis.execute("HSET", keys.bypass_owner_index(), code.meta.code_id,
                                          f"{user_id} {place}")

    async def of_user(self, user_id: str, now_ms: int) -> list[BypassCode]:
        """The user's live codes (not expired), oldest first."""
        raw = flat_to_dict(await self._ctx.redis.execute("HGETALL", self._keys.user_bypass(user_id)))
        codes = [bypass_from_json(value, user_id) for value in raw.values()]
        live = [code for code in codes if not code.expires_ms or code.expires_ms > now_ms]
        return sorted(live, key=lambda code: (code.created, code.code_id))

    async def page(self, offset: int, limit: int, now_ms: int) -> tuple[list[BypassCode], int]:
        """One page of every user's live codes, and the total count (stale entries pruned)."""
        redis, keys = self._ctx.redis, self._keys
        ids, total = await self._listing.page(offset, limit)
        owners = await redis.execute("HMGET", keys.bypass_owner_index(), *ids) if ids else []
        by_user: dict[str, list[BypassCode]] = {}
        for user_id in {found[0] for owner in owners if (found := owner_of(owner))}:
            by_user[user_id] = await self.of_user(user_id, now_ms)
        live = {code.code_id: code for codes in by_user.values() for code in codes}
        stale = [code_id for code_id in ids if code_id not in live]
        await self.forget(stale)
        return [live[code_id] for code_id in ids if code_id in live], total - len(stale)

    async def forget(self, code_ids: Sequence[str]) -> None:
        """Take codes that are gone (used up, expired, replaced, their user purged) out of the
        listing and the owner index."""
        if not code_ids:
            return
        keys = self._keys
        owners = await self._ctx.redis.execute("HMGET", keys.bypass_owner_index(), *code_ids)
        await self._ctx.redis.execute("HDEL", keys.bypass_owner_index(), *code_ids)
        for code_id, owner in zip(code_ids, owners, strict=True):
            found = owner_of(owner)
            await self._listing.remove(code_id, None if found is None else found[1])

    async def delete(self, code_id: str) -> None:
        """Delete one code by id; raises NotFound if there is no such live code."""
        keys = self._keys
        owner = owner_of(await self._ctx.redis.execute(
            "HGET", keys.bypass_owner_index(), code_id))
        deleted = 0
        if owner is not None:
            deleted = await self._ctx.scripts.run(
                ScriptName.BYPASS_DELETE, [keys.user_bypass(owner[0])], [code_id])
        await self.forget([code_id])
        if not deleted:
            raise NotFound("bypass_code_id")
