"""The webhook provider's retry queue and dead letters, in Redis so that no process restart
loses a message that still has to be delivered."""

from __future__ import annotations

import json
from typing import Any

from authsvc.store.core import StoreContext

DEAD_KEPT = 10_000


class DeliveryQueue:
    """Messages waiting for another attempt, claimed by exactly one process each."""

    def __init__(self, ctx: StoreContext) -> None:
        self._ctx = ctx
        self._keys = ctx.keys

    async def schedule(self, entry: dict[str, Any], due_ms: int) -> None:
        await self._ctx.redis.execute("ZADD", self._keys.delivery_retry(), due_ms,
                                      json.dumps(entry, sort_keys=True))

    async def claim_due(self, now_ms: int, limit: int = 20) -> list[dict[str, Any]]:
        """Due entries this process now owns (ZREM decides between competing processes)."""
        key = self._keys.delivery_retry()
        due = await self._ctx.redis.execute("ZRANGE", key, "-inf", now_ms, "BYSCORE", "LIMIT", 0,
                                            limit)
        if not due:
            return []
        removed = await self._ctx.redis.pipeline([("ZREM", key, member) for member in due])
        return [json.loads(member) for member, won in zip(due, removed, strict=True) if won == 1]

    async def bury(self, entry: dict[str, Any]) -> None:
        key = self._keys.delivery_dead()
        await self._ctx.redis.pipeline([("RPUSH", key, json.dumps(entry)),
                                        ("LTRIM", key, -DEAD_KEPT, -1)])

    async def dead(self) -> list[dict[str, Any]]:
        raw = await self._ctx.redis.execute("LRANGE", self._keys.delivery_dead(), 0, -1)
        return [json.loads(entry) for entry in raw]

    async def waiting(self) -> int:
        count: int = await self._ctx.redis.execute("ZCARD", self._keys.delivery_retry())
        return count
