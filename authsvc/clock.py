"""Time comes from one injected clock, so expiry, TOTP and timeout tests are deterministic.

Waiting is part of the clock too: a request that waits for a push to end waits on the clock, so
a test that moves a `FakeClock` past the push's deadline ends the wait at once, with no real
sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Protocol


class Clock(Protocol):
    """Wall-clock time in seconds and milliseconds since the epoch, and waits measured by it."""

    def now(self) -> float: ...

    def now_ms(self) -> int: ...

    async def wait(self, event: asyncio.Event, timeout: float) -> bool:
        """True if `event` was set within `timeout` seconds of this clock."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> float:
        return time.time()

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000

    async def wait(self, event: asyncio.Event, timeout: float) -> bool:
        if timeout <= 0:
            return event.is_set()
        try:
            async with asyncio.timeout(timeout):
                await event.wait()
        except TimeoutError:
            return False
        return True


class FakeClock:
    """A clock that only moves when told to (tests): waits end when their event is set or when
    `advance` moves the clock past their deadline."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self._now = start
        self._moved = asyncio.Event()

    def now(self) -> float:
        return self._now

    def now_ms(self) -> int:
        return int(self._now * 1000)

    def advance(self, seconds: float) -> None:
        self._now += seconds
        moved, self._moved = self._moved, asyncio.Event()
        moved.set()

    async def wait(self, event: asyncio.Event, timeout: float) -> bool:
        deadline = self._now + timeout
        while not event.is_set() and self._now < deadline:
            watchers = {asyncio.ensure_future(event.wait()),
                        asyncio.ensure_future(self._moved.wait())}
            try:
                await asyncio.wait(watchers, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for watcher in watchers:
                    watcher.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await watcher
        return event.is_set()
