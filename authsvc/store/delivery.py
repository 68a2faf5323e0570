"""The webhook provider's retry queue and dead letters, in Redis so that no process restart
loses a message that still has to be delivered.

Entries are opaque strings here: the provider seals each one (`SecretBox`) before it arrives,
because a message holds SMS passcodes and activation links. Each sealed entry is unique (a random
nonce), which is what lets ZREM pick the one process that retries it.
"""

from __future__ import annotations

from authsvc.store.core import StoreContext

DEAD_KEPT = 10_000
DEAD_TTL_S = 7 * 86_400


class DeliveryQueue:
    """Messages waiting for another attempt, claimed by exactly one process each."""

    def __init__(self, ctx: StoreContext) -> None:
        self._ctx = ctx
        self._keys = ctx.keys

    async def schedule(self, sealed: str, due_ms: int) -> None:
        """Queue a sealed entry for another attempt at `due_ms`."""
        await self._ctx.redis.execute("ZADD", self._keys.delivery_retry(), due_ms, sealed)

    async def claim_due(self, now_ms: int, limit: int = 20) -> list[str]:
        """Due sealed entries this process now owns (ZREM decides between competing
        processes)."""
        key = self._keys.delivery_retry()
        due = await self._ctx.redis.execute("ZRANGE", key, "-inf", now_ms, "BYSCORE", "LIMIT", 0,
                                            limit)
        if not due:
            return []
        removed = await self._ctx.redis.pipeline([("ZREM", key, member) for member in due])
        return [member for member, won in zip(due, removed, strict=True) if won == 1]

    async def bury(self, sealed: str) -> None:
        """Keep a sealed entry that was never delivered: the last `DEAD_KEPT`, for a week after
        the newest (the codes inside are long expired by then)."""
        key = self._keys.delivery_dead()
        await self._ctx.redis.pipeline([("RPUSH", key, sealed), ("LTRIM", key, -DEAD_KEPT, -1),
                                        ("EXPIRE", key, DEAD_TTL_S)])

    async def dead(self) -> list[str]:
        """The sealed dead letters, oldest first."""
        dead: list[str] = await self._ctx.redis.execute("LRANGE", self._keys.delivery_dead(), 0, -1)
        return dead

    async def waiting(self) -> int:
        count: int = await self._ctx.redis.execute("ZCARD", self._keys.delivery_retry())
        return count
