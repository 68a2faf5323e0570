"""Thousands of simulated phones in one process, answering with a chosen mix and delays."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import aiohttp

from mobile_sim.client import DeviceClient, activate, resolve_activation
from mobile_sim.phone import LONG_POLL_S, Mix, failure_kind, serve_account
from mobile_sim.protocol import new_device_key
from mobile_sim.state import Account

ANSWERS = ("approve", "deny", "fraud", "ignore")
ACTIVATION_CONCURRENCY = 32


def parse_mix(text: str, delay_ms: float = 0.0, jitter_ms: float = 0.0) -> Mix:
    """``approve=0.9,deny=0.1`` -> a Mix (weights need not sum to 1)."""
    weights: dict[str, float] = {}
    for part in text.split(","):
        name, _, weight = part.partition("=")
        if name.strip() not in ANSWERS:
            raise ValueError(f"unknown answer {name!r} (one of {', '.join(ANSWERS)})")
        weights[name.strip()] = float(weight or 1)
    return Mix(weights, delay_ms, jitter_ms)


@dataclass
class FleetStats:
    """What the fleet did: each push's outcome, and each failed poll by what it failed with
    (a load test's "poll errors" must say whether the service refused, a connection broke or
    a poll timed out). Polls cut because the run ends are cancelled, never counted."""

    outcomes: Counter[str] = field(default_factory=Counter)
    error_kinds: Counter[str] = field(default_factory=Counter)

    @property
    def errors(self) -> int:
        return sum(self.error_kinds.values())

    def record(self, line: str) -> None:
        """A phone's report line: a push's outcome counts; a failure is counted by `failed`."""
        if " -> " in line:
            self.outcomes[line.rsplit(" -> ", 1)[1].split(" ", 1)[0]] += 1

    def failed(self, exc: BaseException) -> None:
        self.error_kinds[failure_kind(exc)] += 1

    def summary(self) -> dict[str, Any]:
        return {"pushes": sum(self.outcomes.values()), "outcomes": dict(self.outcomes),
                "errors": self.errors, "error_kinds": dict(self.error_kinds)}


class Fleet:
    """Activate many accounts and serve them all from one session."""

    def __init__(self, mix: Mix, *, ca_file: str | None = None, key_pool: int = 0,
                 poll_wait: float = LONG_POLL_S) -> None:
        self.mix = mix
        self.ca_file = ca_file
        self.key_pool = key_pool
        self.poll_wait = poll_wait
        self.accounts: list[Account] = []
        self.stats = FleetStats()
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Fleet:
        self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        return self

    async def __aexit__(self, *_: type[BaseException] | BaseException | TracebackType | None) -> None:
        if self._session is not None:
            await self._session.close()

    @property
    def session(self) -> aiohttp.ClientSession:
        assert self._session is not None, "use the fleet as an async context manager"  # noqa: S101
        return self._session

    async def activate_all(self, values: list[str]) -> None:
        """Activate one phone per activation value (URL, duo:// value or QR URL)."""
        limit = asyncio.Semaphore(ACTIVATION_CONCURRENCY)
        # An RSA-2048 key takes ~50 ms of CPU to generate: tens of thousands of phones share a
        # pool of keys when asked (each phone still signs every call; the service checks each).
        keys = [new_device_key() for _ in range(self.key_pool)]

        async def one(number: int, text: str) -> Account:
            async with limit:
                value = await resolve_activation(self.session, text, self.ca_file)
                key = keys[number % len(keys)] if keys else None
                return await activate(self.session, value, self.ca_file, key)

        self.accounts = list(await asyncio.gather(*(one(number, text)
                                                    for number, text in enumerate(values))))

    async def run(self, duration: float | None = None,
                  stopped: asyncio.Event | None = None,
                  all_polling: Callable[[], None] | None = None) -> None:
        """Serve every account until `duration` seconds pass (None: forever) or `stopped` is
        set; `all_polling` is called once every phone's first poll was answered (its
        connection is up: the long polls that follow hold it)."""
        stop = asyncio.Event()
        waiting = [len(self.accounts)]

        def polled() -> None:
            waiting[0] -= 1
            if waiting[0] == 0 and all_polling is not None:
                all_polling()

        tasks = [asyncio.create_task(serve_account(
            self.session, DeviceClient(self.session, account), self.mix.decide,
            self.stats.record, stop, self.poll_wait, polled, self.stats.failed))
            for account in self.accounts]
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for((stopped or asyncio.Event()).wait(), duration)
        finally:
            stop.set()
            for task in tasks:
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(*tasks, return_exceptions=True)
