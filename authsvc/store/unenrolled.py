"""The "Not enrolled" lockout in Redis: the atomic check-and-lock of one user, and the sweep's
place in the creation-ordered user listing."""

from __future__ import annotations

from authsvc.store.core import StoreContext
from authsvc.store.listing import Listing
from authsvc.store.scripts import ScriptName


class UnenrolledStore:
    """Lock out users who enrolled nothing; remember how far the sweep has come."""

    def __init__(self, ctx: StoreContext, listing: Listing) -> None:
        self._ctx = ctx
        self._keys = ctx.keys
        self._listing = listing

    async def lock_if_unenrolled(self, user_id: str, *, created_by_s: int, now_ms: int) -> bool:
        """Lock the user out ("Not enrolled") if active, created by `created_by_s` and holding
        no phone, token, bypass code or security key; see unenrolled_lock.lua."""
        keys = self._keys
        reply = await self._ctx.scripts.run(
            ScriptName.UNENROLLED_LOCK,
            [keys.user(user_id), keys.user_phones(user_id), keys.user_tokens(user_id),
             keys.user_bypass(user_id), keys.user_security_keys(user_id),
             *keys.counting(user_id)],
            [now_ms, created_by_s])
        return bool(reply)

    async def claim_sweep(self, hold_ms: int) -> bool:
        """True for the one process that may sweep now (until it releases, or `hold_ms`)."""
        reply = await self._ctx.redis.execute(
            "SET", self._keys.unenrolled_sweep_lock(), "1", "NX", "PX", hold_ms)
        return reply is not None

    async def release_sweep(self) -> None:
        await self._ctx.redis.execute("DEL", self._keys.unenrolled_sweep_lock())

    async def swept_until_ms(self) -> int | None:
        """Creation time up to which users were checked, None before the first sweep."""
        raw = await self._ctx.redis.execute("GET", self._keys.unenrolled_sweep())
        return None if raw is None else int(raw)

    async def set_swept_until(self, created_ms: int) -> None:
        await self._ctx.redis.execute("SET", self._keys.unenrolled_sweep(), created_ms)

    async def created_between(self, after_ms: int | None, until_ms: int, *, offset: int,
                              count: int) -> list[str]:
        """Ids of users created in (after_ms, until_ms] (from the beginning when None), in
        creation order, one page."""
        return await self._listing.between(after_ms, until_ms, offset=offset, count=count)
