"""Waiters for state changes announced on the events channel (``tx:<txid>``, ``phone:<id>``).

Always register before reading the state you wait on: an event published between the read and
the wait would otherwise be missed. A missed event only delays a waiter to its timeout, never
loses a decision (the decision lives in Redis).

An announcement may carry news (``phone:<id>`` carries the inbox entry it announces, so a
waiting long poll answers without reading the inbox again); an announcement without news (the
subscriber reconnected, the process is stopping, an older process published it) tells the
waiter only that something changed, and the waiter reads the state again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

from authsvc.obs.metrics import WAITING


class Waiter:
    """One registration: `event` is set at the next announcement of `topic` until `close()`."""

    __slots__ = ("_open", "_waiters", "_waiting", "event", "news", "topic")

    def __init__(self, waiters: Waiters, topic: str) -> None:
        self._waiters = waiters
        self.topic = topic
        self.event = asyncio.Event()
        self.news: list[str | None] = []
        """What each announcement since registering carried (None: nothing, read again)."""
        self._open = True
        self._waiting = WAITING.labels(topic.partition(":")[0])  # tx (pushes, calls) or phone
        self._waiting.inc()

    def close(self) -> None:
        """Stop listening (idempotent)."""
        if not self._open:
            return
        self._open = False
        self._waiting.dec()
        group = self._waiters._events.get(self.topic)
        if group is not None:
            group.discard(self)
            if not group:
                del self._waiters._events[self.topic]


class Waiters:
    """asyncio events keyed by topic, set when the topic is announced."""

    def __init__(self) -> None:
        self._events: dict[str, set[Waiter]] = {}
        self.closed = False

    def register(self, topic: str) -> Waiter:
        """Listen for `topic` from now on, until the waiter is closed (a push registers before
        it exists, so that its answer cannot come before anybody listens)."""
        waiter = Waiter(self, topic)
        if self.closed:
            waiter.news.append(None)
            waiter.event.set()
        self._events.setdefault(topic, set()).add(waiter)
        return waiter

    @contextlib.contextmanager
    def watch(self, topic: str) -> Iterator[asyncio.Event]:
        """An event set at the next announcement of `topic` while the block runs."""
        with self.watch_news(topic) as waiter:
            yield waiter.event

    @contextlib.contextmanager
    def watch_news(self, topic: str) -> Iterator[Waiter]:
        """A waiter of `topic` (its event and the news announced) while the block runs."""
        waiter = self.register(topic)
        try:
            yield waiter
        finally:
            waiter.close()

    def announce(self, topic: str, news: str | None = None) -> None:
        for waiter in self._events.get(topic, ()):
            waiter.news.append(news)
            waiter.event.set()

    def close(self) -> None:
        """The process is stopping: end every wait now and every later one at once."""
        self.closed = True
        self.announce_all()

    def announce_all(self) -> None:
        """Wake everybody (after the subscriber reconnected: events may have been missed)."""
        for group in self._events.values():
            for waiter in group:
                waiter.news.append(None)
                waiter.event.set()
