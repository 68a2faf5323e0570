"""One pipelined connection to one Redis server: the lean client's engine.

Every caller writes its packed command (hiredis.pack_command) onto the connection and awaits a
future; replies are parsed by hiredis.Reader in `data_received` and matched to futures in
order. Everything queued in one event-loop turn leaves in one write, so concurrent requests
share round trips and send syscalls.

Failure model: a dead or stuck connection fails every pending call with `RedisUnavailable`
(a watchdog aborts the connection when the oldest pending call outlives its deadline); the next
call reconnects. A connection that cannot be made raises `RedisConnectFailed`: nothing was sent,
so a router may safely send the command elsewhere.

Replication window: `execute_waited` queues ``WAIT n ms`` behind a command on the same
connection. One WAIT closes each write (all callers of one event-loop turn share it): WAIT
covers every write the connection made before it, so it acknowledges them all at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections import deque
from collections.abc import Sequence
from typing import Any, cast

import hiredis

from authsvc.store.redis_errors import RedisConnectFailed, RedisError, RedisUnavailable, reply_error
from authsvc.store.redis_url import RedisAddress

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


class _Pending:
    __slots__ = ("deadline", "future")

    def __init__(self, future: asyncio.Future[Any], deadline: float) -> None:
        self.future = future
        self.deadline = deadline


class _RespProtocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.reader = hiredis.Reader(encoding="utf-8", errors="surrogateescape")
        self.pending: deque[_Pending] = deque()
        self.transport: asyncio.WriteTransport | None = None
        self.lost = False
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
            self.pending.append(_Pending(future, deadline))
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


class Connection:
    """One pipelined connection to one server; safe to share between all tasks of one loop.

    `wait_replicas` (0: off) and `wait_ms` are what `execute_waited` asks of WAIT; the owner
    (`Redis`) sets them from its policy and what it learned of the server's replicas."""

    def __init__(self, address: RedisAddress, *, timeout: float = 2.0) -> None:
        self.address = address
        self.timeout = timeout
        self.wait_replicas = 0
        self.wait_ms = 0
        self._protocol: _RespProtocol | None = None
        self._connect_lock = asyncio.Lock()
        self._watchdog: asyncio.Task[None] | None = None
        self._closed = False

    @property
    def up(self) -> bool:
        """True while a connection is open."""
        return self._protocol is not None and not self._protocol.lost

    async def execute(self, args: Sequence[Arg], timeout: float | None = None) -> Any:
        """Send one command and return its reply; an error reply raises `RedisError`."""
        protocol = await self._connected()
        return await self._send(protocol, (pack_command(args),), timeout)[0]

    async def execute_waited(self, args: Sequence[Arg]) -> tuple[Any, bool]:
        """The command's reply, and whether `wait_replicas` replicas acknowledged it (True when
        no WAIT is asked)."""
        protocol = await self._connected()
        future = self._send(protocol, (pack_command(args),), None)[0]
        if self.wait_replicas <= 0:
            return await future, True
        loop = asyncio.get_running_loop()
        waited = protocol.wait_after(
            pack_command(("WAIT", self.wait_replicas, self.wait_ms)),
            loop.time() + self.timeout + self.wait_ms / 1000)
        reply = await future
        acked: int = await waited
        return reply, acked >= self.wait_replicas

    async def send(self, args: Sequence[Arg]) -> asyncio.Future[Any]:
        """Send one command without waiting for its reply; the caller owns the future."""
        protocol = await self._connected()
        return self._send(protocol, (pack_command(args),), None)[0]

    async def pipeline(self, commands: Sequence[Sequence[Arg]]) -> list[Any]:
        """Several commands in one write; replies in order, error replies as `RedisError`."""
        if not commands:
            return []
        protocol = await self._connected()
        packed = [pack_command(tuple(command)) for command in commands]
        return await collect(self._send(protocol, packed, None))

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

    def drop(self) -> None:
        """Abort the connection (the server changed role): pending calls fail, the next
        call reconnects."""
        if self._protocol is not None and self._protocol.transport is not None:
            self._protocol.transport.abort()

    def _send(self, protocol: _RespProtocol, packed: Sequence[bytes], timeout: float | None
              ) -> list[asyncio.Future[Any]]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (self.timeout if timeout is None else timeout)
        futures: list[asyncio.Future[Any]] = []
        for _ in packed:
            future: asyncio.Future[Any] = loop.create_future()
            protocol.pending.append(_Pending(future, deadline))
            futures.append(future)
        protocol.queue(packed)
        return futures

    async def _connected(self) -> _RespProtocol:
        protocol = self._protocol
        if protocol is not None and not protocol.lost:
            return protocol
        if self._closed:
            raise RedisConnectFailed("client closed")
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
                await protocol.made
                await self._handshake(protocol)
        except (OSError, TimeoutError, RedisUnavailable, RedisError) as exc:
            # A refused login (wrong password, unknown db) is a deployment fault: the service
            # answers 503 like for an unreachable Redis, and the half-open socket is closed.
            if protocol is not None and protocol.transport is not None:
                protocol.transport.abort()
            raise RedisConnectFailed(
                f"cannot use Redis at {address.describe()}: {exc}") from None
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
            for reply in await collect(self._send(protocol, [pack_command(c) for c in commands],
                                                  None)):
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
