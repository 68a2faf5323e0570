"""The outbox delivery provider: messages kept in Redis per destination, for the simulated
carrier and inbox to read. (The delivery layer with a webhook provider grows from here.)"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from authsvc.store.core import StoreContext

KEEP_MESSAGES = 100
KEEP_SECONDS = 7 * 86400


class OutboxStore:
    """Append and read messages per (channel, destination)."""

    def __init__(self, ctx: StoreContext) -> None:
        self._ctx = ctx
        self._keys = ctx.keys

    async def append(self, channel: str, destination: str, message: Mapping[str, Any]) -> None:
        key = self._keys.outbox(channel, destination)
        await self._ctx.redis.pipeline([
            ("RPUSH", key, json.dumps(message)),
            ("LTRIM", key, -KEEP_MESSAGES, -1),
            ("EXPIRE", key, KEEP_SECONDS)])

    async def read(self, channel: str, destination: str) -> list[dict[str, Any]]:
        raw = await self._ctx.redis.execute("LRANGE", self._keys.outbox(channel, destination), 0, -1)
        return [json.loads(entry) for entry in raw]
