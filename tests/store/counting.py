"""The service's Redis client, counting every call that waits for Redis's answer (one command
or one non-empty pipeline): how the store and panel tests count round trips on a real Redis."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from authsvc.store import Redis
from authsvc.store.redis_client import Arg


class CountingRedis(Redis):
    """Counts every call that waits for Redis's answer: per client (`awaited`) and over every
    client of the process (`CountingRedis.round_trips`, which a test resets before counting,
    for clients built where the test cannot reach them, as inside an app). An empty pipeline
    sends nothing and is not counted."""

    round_trips = 0
    awaited = 0

    def _count(self) -> None:
        self.awaited += 1
        CountingRedis.round_trips += 1

    async def execute(self, *args: Arg, timeout: float | None = None) -> Any:
        self._count()
        return await super().execute(*args, timeout=timeout)

    async def execute_waited(self, *args: Arg) -> tuple[Any, bool]:
        self._count()  # the WAIT rides in the same write: one round trip
        return await super().execute_waited(*args)

    async def pipeline(self, commands: Sequence[Sequence[Arg]]) -> list[Any]:
        if commands:
            self._count()
        return await super().pipeline(commands)
