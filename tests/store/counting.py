"""The service's Redis client, counting every call that waits for Redis's answer (one command
or one pipeline): how store tests count round trips on a real Redis."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from authsvc.store import Redis
from authsvc.store.redis_client import Arg


class CountingRedis(Redis):
    """Counts every call that waits for Redis's answer (one command or one pipeline)."""

    awaited = 0

    async def execute(self, *args: Arg, timeout: float | None = None) -> Any:
        self.awaited += 1
        return await super().execute(*args, timeout=timeout)

    async def execute_waited(self, *args: Arg) -> tuple[Any, bool]:
        self.awaited += 1  # the WAIT rides in the same write: one round trip
        return await super().execute_waited(*args)

    async def pipeline(self, commands: Sequence[Sequence[Arg]]) -> list[Any]:
        self.awaited += 1
        return await super().pipeline(commands)
