"""A lean asyncio Redis client: pipelined connections, one per server, shared by the process.

Why not redis-py or a cluster client: measured on this machine (docs/performance.md, "Choosing
the Redis client"), redis-py's asyncio client costs about 200 us of Python per call and the
maintained cluster clients (valkey-glide, redis-py, coredis) all serve fewer requests per second
than this one. The engine is `redis_conn.Connection`: every caller writes its packed command onto
the shared connection and awaits a future, so concurrent requests share round trips.

`Redis` finds out what it talks to on its first call, from the URL alone:

- ``redis+sentinel://``: the Sentinels name the master (`redis_sentinel.SentinelMaster`);
- any other URL naming a server that reports ``cluster_enabled:1``: a Redis Cluster, whose other
  nodes are discovered (`redis_cluster.ClusterRouter`: slots, MOVED/ASK, failover);
- otherwise one server, one connection.

Failure model: a dead or stuck server fails the calls it holds with `RedisUnavailable`; the
next call reconnects (or finds the new master). An error reply that means "not now"
(`TRANSIENT_REPLIES`) fails only its own call, with `RedisTransientError`, a `RedisUnavailable`
too. Callers turn `RedisUnavailable` into a 503; any other error reply is a `RedisError`.

Replication window: `execute_waited` runs a command and then ``WAIT`` on the same connection
(see `redis_conn`), as `wait_replicas` says: None ("auto") waits for one replica on a server that
has at least one connected (learned at connect time, and again every `RELEARN_S` and after a
WAIT fell short), 0 never waits, N waits for N.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from authsvc.store.redis_cluster import ClusterRouter
from authsvc.store.redis_conn import Arg, Connection, Hooks, pack_command, replicas_in
from authsvc.store.redis_errors import (
    TRANSIENT_REPLIES,
    RedisError,
    RedisTransientError,
    RedisUnavailable,
)
from authsvc.store.redis_sentinel import SentinelMaster
from authsvc.store.redis_url import RedisAddress, parse_redis_url

__all__ = ["TRANSIENT_REPLIES", "Arg", "Redis", "RedisAddress", "RedisError",
           "RedisTransientError", "RedisUnavailable", "pack_command", "parse_redis_url"]

RELEARN_S = 5.0
DEFAULT_WAIT_MS = 250


class _Route(Protocol):
    async def execute(self, args: Sequence[Arg], timeout: float | None = None) -> Any: ...

    async def execute_waited(self, args: Sequence[Arg]) -> tuple[Any, bool]: ...

    async def send(self, args: Sequence[Arg]) -> asyncio.Future[Any]: ...

    async def pipeline(self, commands: Sequence[Sequence[Arg]]) -> list[Any]: ...

    async def close(self) -> None: ...


class Redis:
    """Redis as the service sees it: one server, a Sentinel-managed master, or a cluster."""

    def __init__(self, address: RedisAddress, *, timeout: float = 2.0,
                 wait_replicas: int | None = None, wait_ms: int = DEFAULT_WAIT_MS) -> None:
        self.address = address
        self.timeout = timeout
        self.wait_replicas = wait_replicas
        self.wait_ms = wait_ms
        self.mode = "unknown"
        self._route: _Route | None = None
        self._lock = asyncio.Lock()
        self._closed = False
        self._learned_at = 0.0
        self._relearning: asyncio.Task[None] | None = None
        self._hooks = Hooks()
        self._replica_seen = False

    @property
    def may_wait(self) -> bool:
        """True when `execute_waited` may WAIT for replicas (the policy asks for N, or `auto`
        has seen a master with a replica): a caller that would pipeline a decision with other
        commands must then run it alone through `execute_waited`."""
        if self.wait_replicas is not None:
            return self.wait_replicas > 0
        return self._replica_seen

    @property
    def on_round_trip(self) -> Callable[[int], None] | None:
        """Called with the number of commands of each write (one round trip), on every
        connection; the composition root sets it to count round trips for /metrics."""
        return self._hooks.on_round_trip

    @on_round_trip.setter
    def on_round_trip(self, hook: Callable[[int], None] | None) -> None:
        self._hooks.on_round_trip = hook

    @classmethod
    def from_url(cls, url: str, *, timeout: float = 2.0, wait_replicas: int | None = None,
                 wait_ms: int = DEFAULT_WAIT_MS) -> Redis:
        """A client for a ``redis://``, ``rediss://``, ``unix://`` or ``redis+sentinel://`` URL."""
        return cls(parse_redis_url(url), timeout=timeout, wait_replicas=wait_replicas,
                   wait_ms=wait_ms)

    async def execute(self, *args: Arg, timeout: float | None = None) -> Any:
        """Send one command and return its reply; an error reply raises `RedisError`."""
        route = self._route or await self._discover()
        return await route.execute(args, timeout)

    async def execute_waited(self, *args: Arg) -> tuple[Any, bool]:
        """Run one command, then WAIT for replicas on the same connection (`wait_replicas`):
        the reply, and False when too few replicas acknowledged in time."""
        route = self._route or await self._discover()
        reply, confirmed = await route.execute_waited(args)
        if not confirmed or time.monotonic() - self._learned_at > RELEARN_S:
            self._relearn_soon()
        return reply, confirmed

    async def send(self, *args: Arg) -> asyncio.Future[Any]:
        """Send one command without waiting for its reply; the caller owns the future."""
        route = self._route or await self._discover()
        return await route.send(args)

    async def pipeline(self, commands: Sequence[Sequence[Arg]]) -> list[Any]:
        """Send several commands in one write per server; replies in order, error replies as
        `RedisError` values. Raises `RedisUnavailable` if a connection is lost, after every
        reply future has been collected."""
        if not commands:
            return []
        route = self._route or await self._discover()
        return await route.pipeline(commands)

    async def subscribe_addresses(self) -> list[RedisAddress]:
        """Where the events subscriber may listen, best first (any node of a cluster: a
        PUBLISH reaches every node)."""
        route = self._route or await self._discover()
        if isinstance(route, ClusterRouter):
            await route.refresh_quietly()
            return route.nodes()
        if isinstance(route, SentinelMaster):
            return [(await route.connection()).address]
        return [self.address]

    async def close(self) -> None:
        """Close every connection; pending calls fail, later calls raise `RedisUnavailable`."""
        self._closed = True
        if self._relearning is not None:
            self._relearning.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._relearning
        route, self._route = self._route, None
        if route is not None:
            await route.close()

    def configure(self, connection: Connection, replicas: int) -> None:
        """Set a master connection's WAIT from the policy and its replica count."""
        wanted = self.wait_replicas
        self._replica_seen = self._replica_seen or replicas > 0  # stays: errs on waiting
        connection.wait_replicas = (1 if replicas > 0 else 0) if wanted is None else wanted
        connection.wait_ms = self.wait_ms

    async def _discover(self) -> _Route:
        if self._closed:
            raise RedisUnavailable("client closed")
        async with self._lock:
            if self._route is None:
                self._route = await self._find_route()
                self._learned_at = time.monotonic()
            return self._route

    async def _find_route(self) -> _Route:
        if self.address.sentinels:
            sentinel = SentinelMaster(self.address, timeout=self.timeout,
                                      configure=self.configure, hooks=self._hooks)
            await sentinel.connection()
            self.mode = "sentinel"
            return sentinel
        connection = Connection(self.address, timeout=self.timeout, hooks=self._hooks)
        try:
            cluster, replication = await connection.pipeline(
                [("INFO", "cluster"), ("INFO", "replication")])
        except RedisUnavailable:
            await connection.close()
            raise
        if isinstance(cluster, str) and "cluster_enabled:1" in cluster:
            await connection.close()
            router = ClusterRouter(self.address, timeout=self.timeout, configure=self.configure,
                                   hooks=self._hooks)
            try:
                await router.start()
            except RedisUnavailable:
                await router.close()
                raise
            self.mode = "cluster"
            return router
        # INFO refused (an ACL without it) reads as a lone server without replicas.
        self.configure(connection, replicas_in(replication) if isinstance(replication, str)
                       else 0)
        self.mode = "single"
        return connection

    def _relearn_soon(self) -> None:
        if self._relearning is not None and not self._relearning.done():
            return
        self._learned_at = time.monotonic()
        self._relearning = asyncio.get_running_loop().create_task(self._relearn())

    async def _relearn(self) -> None:
        """Read the replica counts again (a replica came, went, or the master changed)."""
        route = self._route
        with contextlib.suppress(RedisUnavailable, RedisError):
            if isinstance(route, ClusterRouter):
                await route.refresh_quietly()
            elif route is not None:
                connection = (await route.connection() if isinstance(route, SentinelMaster)
                              else route)
                assert isinstance(connection, Connection)  # noqa: S101 - the lone-server route
                self.configure(connection, replicas_in(
                    await connection.execute(("INFO", "replication"))))
