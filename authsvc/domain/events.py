"""Waiters for state changes announced on the events channel (``tx:<txid>``, ``phone:<id>``).

Always register before reading the state you wait on: an event published between the read and
the wait would otherwise be missed. A missed event only delays a waiter to its timeout, never
loses a decision (the decision lives in Redis).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

from authsvc.obs.metrics import WAITING


class Waiters:
    """asyncio events keyed by topic, set when the topic is announced."""

    def __init__(self) -> None:
        self._events: dict[str, set[asyncio.Event]] = {}
        self.closed = False

    @contextlib.contextmanager
    def watch(self, topic: str) -> Iterator[asyncio.Event]:
        """An event set at the next announcement of `topic` while the block runs."""
        event = asyncio.Event()
        if self.closed:
            event.set()
        self._events.setdefault(topic, set()).add(event)
        waiting = WAITING.labels(topic.partition(":")[0])  # tx (pushes, calls) or phone
        waiting.inc()
        try:
            yield event
        finally:
            waiting.dec()
            group = self._events.get(topic)
            if group is not None:
                group.discard(event)
                if not group:
                    del self._events[topic]

    def announce(self, topic: str) -> None:
        for event in self._events.get(topic, ()):
            event.set()

    def close(self) -> None:
        """The process is stopping: end every wait now and every later one at once."""
        self.closed = True
        self.announce_all()

    def announce_all(self) -> None:
        """Wake everybody (after the subscriber reconnected: events may have been missed)."""
        for group in self._events.values():
            for event in group:
                event.set()
