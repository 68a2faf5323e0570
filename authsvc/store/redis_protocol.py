"""RESP over one stream: commands packed by hiredis, replies parsed by hiredis.Reader and matched
in order to the futures of their callers (`RespProtocol`), plus the helpers a pipeline needs.

Everything queued in one event-loop turn leaves in one write; a WAIT asked for during the turn
(`wait_after`) is sent once at its end, after every command of the turn.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Sequence
from typing import Any, cast

import hiredis

from authsvc.store.redis_errors import RedisError, RedisUnavailable, reply_error

Arg = str | bytes | int | float


def pack_command(args: Sequence[Arg]) -> bytes:
    # hiredis's stub types the argument as a 1-tuple; any tuple of str/bytes/numbers is accepted.
    packed: bytes = hiredis.pack_command(cast(Any, tuple(args)))
    return packed


def _retrieve(future: asyncio.Future[Any]) -> None:
    """Mark a failure as seen (a shared WAIT's loss may have no one left awaiting it)."""
    if not future.cancelled():
        future.exception()


async def collect(futures: Sequence[asyncio.Future[Any]]) -> list[Any]:
    """Every reply in order (error replies as `RedisError` values); a lost connection or a
    transient error reply raises `RedisUnavailable` once all futures are done."""
    # Replies resolve futures in order and a lost connection fails all that remain, so when the
    # last future is done every earlier one is too.
    with contextlib.suppress(RedisError, RedisUnavailable):
        await futures[-1]
    results: list[Any] = []
    for future in futures:
        error = future.exception()
        if isinstance(error, RedisUnavailable):
            for rest in futures:
                rest.exception()  # mark every failure as retrieved
            raise error
        results.append(error if error is not None else future.result())
    return results


class Pending:
    __slots__ = ("deadline", "future")

    def __init__(self, future: asyncio.Future[Any], deadline: float) -> None:
        self.future = future
        self.deadline = deadline


class RespProtocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.reader = hiredis.Reader(encoding="utf-8", errors="surrogateescape")
        self.pending: deque[Pending] = deque()
        self.transport: asyncio.WriteTransport | None = None
        self.lost = False
        self.reads = 0
        """Reads from the server so far: the watchdog's sign that Redis still answers."""
        self._outgoing: list[bytes] = []
        self._wait: tuple[asyncio.Future[Any], bytes, float] | None = None
        # uvloop may return from create_unix_connection before calling connection_made.
        self.made: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def queue(self, packed: Sequence[bytes]) -> None:
        """Queue commands; everything queued in one event-loop turn leaves in one write."""
        if not self._outgoing:
            asyncio.get_running_loop().call_soon(self._flush)
        self._outgoing.extend(packed)

    def wait_after(self, command: bytes, deadline: float) -> asyncio.Future[Any]:
        """The reply of one WAIT sent after everything queued in this turn (shared)."""
        if self._wait is None:
            future = asyncio.get_running_loop().create_future()
            future.add_done_callback(_retrieve)
            self._wait = (future, command, deadline)
        return self._wait[0]

    def _flush(self) -> None:
        if self._wait is not None:
            future, command, deadline = self._wait
            self._wait = None
            self._outgoing.append(command)
            self.pending.append(Pending(future, deadline))
        data, self._outgoing = b"".join(self._outgoing), []
        if self.transport is not None and not self.lost:
            self.transport.write(data)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream transport: asyncio's own or uvloop's (whose classes do not derive from
        # asyncio.Transport, so no isinstance check here).
        self.transport = cast(asyncio.WriteTransport, transport)
        if not self.made.done():
            self.made.set_result(None)

    def data_received(self, data: bytes) -> None:
        self.reads += 1
        self.reader.feed(data)
        try:
            while (reply := self.reader.gets()) is not False:
                entry = self.pending.popleft()
                if entry.future.done():
                    continue
                if isinstance(reply, hiredis.ReplyError):
                    entry.future.set_exception(reply_error(str(reply)))
                else:
                    entry.future.set_result(reply)
        except (hiredis.ProtocolError, IndexError):
            if self.transport is not None:
                self.transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        if not self.made.done():
            self.made.set_exception(ConnectionError("connection lost while being made"))
        wait, self._wait = self._wait, None
        if wait is not None and not wait[0].done():
            wait[0].set_exception(RedisUnavailable("connection to Redis lost"))
        while self.pending:
            entry = self.pending.popleft()
            if not entry.future.done():
                entry.future.set_exception(RedisUnavailable("connection to Redis lost"))
