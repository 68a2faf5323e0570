"""A lean asyncio Redis client: one shared, pipelined connection per process.

Why not redis-py: its asyncio client costs about 170-200 us of Python per call on these machines,
which is most of the hot path's budget (see docs/performance.md). Here every caller writes its
packed command (hiredis.pack_command) straight onto one connection and awaits a future; replies
are parsed by hiredis.Reader in `data_received` and matched to futures in order. Concurrent
requests therefore share round trips for free.

Failure model: a dead or stuck connection fails every pending call with `RedisUnavailable`
(a watchdog aborts the connection when the oldest pending call outlives its deadline); the next
call reconnects. An error reply that means "not now" (`TRANSIENT_REPLIES`: out of memory,
loading, a read-only replica, a cluster or master that is down, a busy script) fails only its
own call, with `RedisTransientError`, a `RedisUnavailable` too. Callers turn `RedisUnavailable`
into a 503; any other error reply is a `RedisError` (a bug or a deployment fault: 500).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import parse_qs, unquote, urlsplit

import hiredis

from authsvc.store.redis_errors import (
    TRANSIENT_REPLIES,
    RedisError,
    RedisTransientError,
    RedisUnavailable,
    reply_error,
)

__all__ = ["TRANSIENT_REPLIES", "Arg", "Redis", "RedisAddress", "RedisError",
           "RedisTransientError", "RedisUnavailable", "pack_command", "parse_redis_url"]

Arg = str | bytes | int | float


@dataclass(frozen=True, slots=True)
class RedisAddress:
    """Where Redis is and how to log in; built by `parse_redis_url`."""

    host: str = "127.0.0.1"
    port: int = 6379
    unix_path: str | None = None
    db: int = 0
    username: str | None = None
    password: str | None = None
    tls: bool = False

    def describe(self) -> str:
        """Where, without the password (for logs)."""
        where = f"unix:{self.unix_path}" if self.unix_path else f"{self.host}:{self.port}"
        return f"{where}/{self.db}"


def parse_redis_url(url: str) -> RedisAddress:
    """``redis://[[user]:password@]host[:port][/db]``, ``rediss://...``, ``unix:///path?db=N``."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    if parts.scheme == "unix":
        if not parts.path:
            raise ValueError("unix:// URL needs a socket path")
        db = int(query.get("db", ["0"])[0])
        return RedisAddress(unix_path=parts.path, db=db, username=username, password=password)
    if parts.scheme not in ("redis", "rediss"):
        raise ValueError(f"unsupported Redis URL scheme {parts.scheme!r}")
    db_text = parts.path.lstrip("/") or query.get("db", ["0"])[0]
    return RedisAddress(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 6379,
        db=int(db_text),
        username=username,
        password=password,
        tls=parts.scheme == "rediss",
    )


def pack_command(args: Sequence[Arg]) -> bytes:
    # hiredis's stub types the argument as a 1-tuple; any tuple of str/bytes/numbers is accepted.
    packed: bytes = hiredis.pack_command(cast(Any, tuple(args)))
    return packed


async def _collect(futures: Sequence[asyncio.Future[Any]]) -> list[Any]:
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


class _Pending:
    __slots__ = ("deadline", "future")

    def __init__(self, future: asyncio.Future[Any], deadline: float) -> None:
        self.future = future
        self.deadline = deadline


class _RespProtocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.reader = hiredis.Reader(encoding="utf-8", errors="surrogateescape")
        self.pending: deque[_Pending] = deque()
        self.transport: asyncio.Transport | None = None
        self.lost = False
        self._outgoing: list[bytes] = []

    def queue(self, packed: Sequence[bytes]) -> None:
        """Queue commands; everything queued in one event-loop turn leaves in one write.

        Concurrent requests thus share send syscalls, which were the largest single cost of the
        hot path when every command was written on its own.
        """
        if not self._outgoing:
            asyncio.get_running_loop().call_soon(self._flush)
        self._outgoing.extend(packed)

    def _flush(self) -> None:
        data, self._outgoing = b"".join(self._outgoing), []
        if self.transport is not None and not self.lost:
            self.transport.write(data)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)  # noqa: S101 - stream transports only
        self.transport = transport

    def data_received(self, data: bytes) -> None:
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
        while self.pending:
            entry = self.pending.popleft()
            if not entry.future.done():
                entry.future.set_exception(RedisUnavailable("connection to Redis lost"))


class Redis:
    """One pipelined connection; safe to share between all tasks of one event loop."""

    def __init__(self, address: RedisAddress, *, timeout: float = 2.0) -> None:
        self.address = address
        self.timeout = timeout
        self._protocol: _RespProtocol | None = None
        self._connect_lock = asyncio.Lock()
        self._watchdog: asyncio.Task[None] | None = None
        self._closed = False
        # Called with the number of commands of each write (one round trip); the composition
        # root sets it to count round trips for /metrics.
        self.on_round_trip: Callable[[int], None] | None = None

    @classmethod
    def from_url(cls, url: str, *, timeout: float = 2.0) -> Redis:
        """A client for a ``redis://``, ``rediss://`` or ``unix://`` URL."""
        return cls(parse_redis_url(url), timeout=timeout)

    async def execute(self, *args: Arg, timeout: float | None = None) -> Any:
        """Send one command and return its reply; an error reply raises `RedisError`."""
        protocol = await self._connected()
        future = self._send(protocol, (pack_command(args),), timeout)[0]
        return await future

    async def send(self, *args: Arg) -> asyncio.Future[Any]:
        """Send one command without waiting for its reply; the caller owns the future."""
        protocol = await self._connected()
        return self._send(protocol, (pack_command(args),), None)[0]

    async def pipeline(self, commands: Sequence[Sequence[Arg]]) -> list[Any]:
        """Send several commands in one write; replies in order, error replies as `RedisError`.

        Raises `RedisUnavailable` if the connection is lost, after every reply future has been
        collected (so asyncio never logs a failure nobody retrieved).
        """
        if not commands:
            return []
        protocol = await self._connected()
        packed = [pack_command(tuple(command)) for command in commands]
        return await _collect(self._send(protocol, packed, None))

    async def close(self) -> None:
        """Close the connection and stop the watchdog; pending calls fail."""
        self._closed = True
        if self._watchdog is not None:
            self._watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watchdog
        if self._protocol is not None and self._protocol.transport is not None:
            self._protocol.transport.close()
        self._protocol = None

    def _send(
        self, protocol: _RespProtocol, packed: Sequence[bytes], timeout: float | None
    ) -> list[asyncio.Future[Any]]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (self.timeout if timeout is None else timeout)
        futures: list[asyncio.Future[Any]] = []
        for _ in packed:
            future: asyncio.Future[Any] = loop.create_future()
            protocol.pending.append(_Pending(future, deadline))
            futures.append(future)
        protocol.queue(packed)
        if self.on_round_trip is not None:
            self.on_round_trip(len(packed))
        return futures

    async def _connected(self) -> _RespProtocol:
        protocol = self._protocol
        if protocol is not None and not protocol.lost:
            return protocol
        if self._closed:
            raise RedisUnavailable("client closed")
        async with self._connect_lock:
            protocol = self._protocol
            if protocol is None or protocol.lost:
                protocol = await self._connect()
                self._protocol = protocol
            if self._watchdog is None or self._watchdog.done():
                self._watchdog = asyncio.get_running_loop().create_task(self._watch())
            return protocol

    async def _connect(self) -> _RespProtocol:
        loop = asyncio.get_running_loop()
        address = self.address
        protocol: _RespProtocol | None = None
        try:
            async with asyncio.timeout(self.timeout):
                if address.unix_path:
                    _, protocol = await loop.create_unix_connection(
                        _RespProtocol, address.unix_path)
                else:
                    context = ssl.create_default_context() if address.tls else None
                    _, protocol = await loop.create_connection(
                        _RespProtocol, address.host, address.port, ssl=context)
                await self._handshake(protocol)
        except (OSError, TimeoutError, RedisUnavailable, RedisError) as exc:
            # A refused login (wrong password, unknown db) is a deployment fault: the service
            # answers 503 like for an unreachable Redis, and the half-open socket is closed.
            if protocol is not None and protocol.transport is not None:
                protocol.transport.abort()
            raise RedisUnavailable(f"cannot use Redis at {address.describe()}: {exc}") from None
        return protocol

    async def _handshake(self, protocol: _RespProtocol) -> None:
        commands: list[tuple[Arg, ...]] = []
        if self.address.password is not None:
            if self.address.username:
                commands.append(("AUTH", self.address.username, self.address.password))
            else:
                commands.append(("AUTH", self.address.password))
        if self.address.db:
            commands.append(("SELECT", self.address.db))
        if commands:
            for reply in await _collect(self._send(protocol, [pack_command(c) for c in commands], None)):
                if isinstance(reply, RedisError):
                    raise reply

    async def _watch(self) -> None:
        """Abort a connection whose oldest pending reply is overdue (Redis stopped or stuck)."""
        loop = asyncio.get_running_loop()
        interval = max(0.05, min(0.5, self.timeout / 4))
        while not self._closed:
            await asyncio.sleep(interval)
            protocol = self._protocol
            if protocol is None or protocol.lost or not protocol.pending:
                continue
            if protocol.pending[0].deadline < loop.time() and protocol.transport is not None:
                protocol.transport.abort()
