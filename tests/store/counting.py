"""The service's Redis client, counting every call that waits for Redis's answer (one command
or one non-empty pipeline): how the store and panel tests count round trips on a real Redis."""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import Any, TypeVar

from authsvc.store import Redis
from authsvc.store.redis_client import Arg

_T = TypeVar("_T")


class CountingRedis(Redis):
    """Counts every call that waits for Redis's answer: per client (`awaited`) and over every
    client of the process (`CountingRedis.round_trips`, which a test resets before counting,
    for clients built where the test cannot reach them, as inside an app). An empty pipeline
    sends nothing and is not counted. `CountingRedis.waves` counts them as a caller waits for
    them: calls in flight at the same time are one wave (one round trip's wait)."""

    round_trips = 0
    waves = 0
    _in_flight = 0
    awaited = 0

    async def _counted(self, call: Awaitable[_T]) -> _T:
        self.awaited += 1
        CountingRedis.round_trips += 1
        if not CountingRedis._in_flight:
            CountingRedis.waves += 1
        CountingRedis._in_flight += 1
        try:
            return await call
        finally:
            CountingRedis._in_flight -= 1

    async def execute(self, *args: Arg, timeout: float | None = None) -> Any:
        return await self._counted(super().execute(*args, timeout=timeout))

    async def execute_waited(self, *args: Arg) -> tuple[Any, bool]:
        # The WAIT rides in the same write: one round trip.
        return await self._counted(super().execute_waited(*args))

    async def pipeline(self, commands: Sequence[Sequence[Arg]]) -> list[Any]:
        if not commands:
            return []
        return await self._counted(super().pipeline(commands))
