"""One pipelined connection to one Redis server: the lean client's engine.

Every caller writes its packed command onto the connection and awaits a future; replies are
matched to futures in order (`redis_protocol.RespProtocol`). Everything queued in one event-loop
turn leaves in one write, so concurrent requests share round trips and send syscalls.

Failure model: a dead or stuck connection fails every pending call with `RedisUnavailable`
(a watchdog aborts the connection when the oldest pending call outlives its deadline and
Redis sent nothing for a whole watchdog interval after that); the next call reconnects. A
connection that cannot be made raises `RedisConnectFailed`: nothing was sent, so a router may
safely send the command elsewhere.

Replication window: `execute_waited` queues ``WAIT n ms`` behind a command on the same
connection, one of a few lanes kept for waited commands. One WAIT closes each write (all callers
of one event-loop turn share it): WAIT covers every write the connection made before it, so it
acknowledges them all at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Callable, Sequence
from typing import Any

from authsvc.store.redis_errors import RedisConnectFailed, RedisError, RedisUnavailable
from authsvc.store.redis_protocol import Arg, Pending, RespProtocol, collect, pack_command
from authsvc.store.redis_url import RedisAddress

__all__ = ["Arg", "Connection", "Hooks", "collect", "pack_command", "replicas_in"]

WAIT_LANES = 4


def replicas_in(info: str) -> int:
    """Replicas in sync (``state=online``) in an INFO replication reply (one still loading
    its first copy cannot acknowledge anything yet)."""
    return sum(1 for line in info.splitlines()
               if line.startswith("slave") and "state=online" in line)


class Hooks:
    """What the owner of a client's connections wants told (shared by all of them)."""

    __slots__ = ("on_round_trip",)

    def __init__(self) -> None:
        # Called with the number of commands of each write (one round trip); the composition
        # root sets it to count round trips for /metrics.
        self.on_round_trip: Callable[[int], None] | None = None


class Connection:
    """One pipelined connection to one server; safe to share between all tasks of one loop.

    `wait_replicas` (0: off) and `wait_ms` are what `execute_waited` asks of WAIT; the owner
    (`Redis`) sets them from its policy and what it learned of the server's replicas."""

    def __init__(self, address: RedisAddress, *, timeout: float = 2.0,
                 hooks: Hooks | None = None) -> None:
        self.address = address
        self.timeout = timeout
        self.hooks = hooks or Hooks()
        self.wait_replicas = 0
        self.wait_ms = 0
        self._protocol: RespProtocol | None = None
        self._connect_lock = asyncio.Lock()
        self._watchdog: asyncio.Task[None] | None = None
        self._closed = False
        self._lanes: list[Connection] = []
        self._lane_at = 0
        self._lane_held = False

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
        no WAIT is asked). Waited commands go over `WAIT_LANES` connections of their own, one
        per event-loop turn in rotation: a WAIT holds up every later command of its connection
        until replicas answer, so the shared connection never carries one, and several WAITs
        (each covering one turn's decisions) can be outstanding at once."""
        if self.wait_replicas <= 0:
            return await self.execute(args), True
        lane = self._lane()
        protocol = await lane._connected()
        future = lane._send(protocol, (pack_command(args),), None)[0]
        waited = protocol.wait_after(
            pack_command(("WAIT", self.wait_replicas, self.wait_ms)),
            asyncio.get_running_loop().time() + self.timeout + self.wait_ms / 1000)
        reply = await future
        acked: int = await waited
        return reply, acked >= self.wait_replicas

    def _lane(self) -> Connection:
        if not self._lanes:
            self._lanes = [Connection(self.address, timeout=self.timeout, hooks=self.hooks)
                           for _ in range(WAIT_LANES)]
        if not self._lane_held:  # the first waited call of this turn: the next lane
            self._lane_at = (self._lane_at + 1) % WAIT_LANES
            self._lane_held = True
            asyncio.get_running_loop().call_soon(self._release_lane)
        return self._lanes[self._lane_at]

    def _release_lane(self) -> None:
        self._lane_held = False

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
        """Close the connection (and its WAIT lanes) and stop the watchdog; pending calls
        fail."""
        self._closed = True
        for lane in self._lanes:
            await lane.close()
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
        for connection in (self, *self._lanes):
            protocol = connection._protocol
            if protocol is not None and protocol.transport is not None:
                protocol.transport.abort()

    def _send(self, protocol: RespProtocol, packed: Sequence[bytes], timeout: float | None
              ) -> list[asyncio.Future[Any]]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (self.timeout if timeout is None else timeout)
        futures: list[asyncio.Future[Any]] = []
        for _ in packed:
            future: asyncio.Future[Any] = loop.create_future()
            protocol.pending.append(Pending(future, deadline))
            futures.append(future)
        protocol.queue(packed)
        if self.hooks.on_round_trip is not None:
            self.hooks.on_round_trip(len(packed))
        return futures

    async def _connected(self) -> RespProtocol:
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

    async def _connect(self) -> RespProtocol:
        loop = asyncio.get_running_loop()
        address = self.address
        protocol: RespProtocol | None = None
        try:
            async with asyncio.timeout(self.timeout):
                if address.unix_path:
                    _, protocol = await loop.create_unix_connection(
                        RespProtocol, address.unix_path)
                else:
                    context = ssl.create_default_context() if address.tls else None
                    _, protocol = await loop.create_connection(
                        RespProtocol, address.host, address.port, ssl=context)
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

    async def _handshake(self, protocol: RespProtocol) -> None:
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
        """Abort a connection whose oldest pending reply is overdue (Redis stopped or stuck).

        Overdue alone is not enough: a call's age includes the time this process's own event
        loop was too busy to read (thousands of requests in one turn, under uvloop timers run
        before the turn's reads), when the replies are waiting in the socket. So a connection
        is aborted only when its oldest call was overdue at one tick and nothing at all was
        read from Redis until the next: every loop turn polls the socket between two ticks, so
        an answering Redis is always heard in between."""
        loop = asyncio.get_running_loop()
        interval = max(0.05, min(0.5, self.timeout / 4))
        overdue_at: tuple[RespProtocol, int] | None = None  # (connection, its reads) then
        while not self._closed:
            await asyncio.sleep(interval)
            protocol = self._protocol
            if (protocol is None or protocol.lost or not protocol.pending
                    or protocol.transport is None
                    or protocol.pending[0].deadline >= loop.time()):
                overdue_at = None
                continue
            if overdue_at == (protocol, protocol.reads):
                protocol.transport.abort()
            overdue_at = (protocol, protocol.reads)
