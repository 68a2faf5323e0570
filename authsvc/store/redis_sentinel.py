"""Redis Sentinel for the lean client: ask the Sentinels where the master is, follow it.

The Sentinels are asked in turn (``SENTINEL get-master-addr-by-name``) on short-lived
connections; the address they give is checked with ROLE (a server that is still, or again, a
replica is not used). Traffic then flows on one pipelined connection to that master. When it is
lost, refused, or answers READONLY (the old master came back as a replica), the next call asks
the Sentinels again: during a failover calls fail fast (503) until the Sentinels have promoted a
replica and name it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from typing import Any

from authsvc.store.redis_conn import Arg, Connection, Hooks, replicas_in
from authsvc.store.redis_errors import RedisConnectFailed, RedisError, RedisUnavailable
from authsvc.store.redis_url import RedisAddress

log = logging.getLogger(__name__)

SENTINEL_TIMEOUT_S = 0.5


async def ask_sentinels(address: RedisAddress, timeout: float) -> RedisAddress:
    """The master's address as the first Sentinel that knows it says."""
    for host, port in address.sentinels:
        sentinel = Connection(RedisAddress(host=host, port=port,
                                           password=address.sentinel_password),
                              timeout=min(timeout, SENTINEL_TIMEOUT_S))
        try:
            reply = await sentinel.execute(("SENTINEL", "get-master-addr-by-name",
                                            str(address.master_name)))
        except (RedisUnavailable, RedisError) as exc:
            log.debug("Sentinel %s:%s did not answer: %s", host, port, exc)
            continue
        finally:
            await sentinel.close()
        if reply:
            return address.at(str(reply[0]), int(reply[1]))
    raise RedisConnectFailed(f"no Sentinel of {address.describe()} names a master")


class SentinelMaster:
    """The current master's connection, found again after every failure."""

    def __init__(self, address: RedisAddress, *, timeout: float,
                 configure: Callable[[Connection, int], None], hooks: Hooks) -> None:
        self._address = address
        self._hooks = hooks
        self._timeout = timeout
        self._configure = configure
        self._connection: Connection | None = None
        self._lock = asyncio.Lock()
        self._closing: set[asyncio.Task[None]] = set()

    async def connection(self) -> Connection:
        """The master's connection, found and checked again when there is none or it was
        lost (never reconnect blindly: the server there may be a replica now)."""
        connection = self._connection
        if connection is not None and connection.up:
            return connection
        async with self._lock:
            if self._connection is None or not self._connection.up:
                if self._connection is not None:
                    self._lost(self._connection)
                self._connection = await self._find()
            return self._connection

    async def _find(self) -> Connection:
        master = await ask_sentinels(self._address, self._timeout)
        connection = Connection(master, timeout=self._timeout, hooks=self._hooks)
        try:
            role, info = await connection.pipeline([("ROLE",), ("INFO", "replication")])
        except RedisUnavailable as exc:
            await connection.close()
            raise RedisConnectFailed(f"master {master.describe()}: {exc}") from None
        if not isinstance(role, list) or not role or role[0] != "master":
            await connection.close()
            raise RedisConnectFailed(f"{master.describe()} is not a master yet")
        self._configure(connection, replicas_in(info) if isinstance(info, str) else 0)
        log.info("Redis master of %s is %s", self._address.master_name, master.describe())
        return connection

    async def nodes(self) -> list[RedisAddress]:
        return [(await self.connection()).address]

    def _lost(self, connection: Connection) -> None:
        if self._connection is connection:
            self._connection = None
            closing = asyncio.get_running_loop().create_task(connection.close())
            self._closing.add(closing)
            closing.add_done_callback(self._closing.discard)

    async def execute(self, args: Sequence[Arg], timeout: float | None = None) -> Any:
        connection = await self.connection()
        try:
            return await connection.execute(args, timeout)
        except RedisUnavailable:
            self._lost(connection)
            raise

    async def execute_waited(self, args: Sequence[Arg]) -> tuple[Any, bool]:
        connection = await self.connection()
        try:
            return await connection.execute_waited(args)
        except RedisUnavailable:
            self._lost(connection)
            raise

    async def send(self, args: Sequence[Arg]) -> asyncio.Future[Any]:
        connection = await self.connection()
        future = await connection.send(args)
        future.add_done_callback(lambda f: self._check(connection, f))
        return future

    def _check(self, connection: Connection, future: asyncio.Future[Any]) -> None:
        if not future.cancelled() and isinstance(future.exception(), RedisUnavailable):
            self._lost(connection)

    async def pipeline(self, commands: Sequence[Sequence[Arg]]) -> list[Any]:
        connection = await self.connection()
        try:
            replies = await connection.pipeline(commands)
        except RedisUnavailable:
            self._lost(connection)
            raise  # READONLY (the master became a replica) is a RedisUnavailable too
        return replies

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(RedisUnavailable):
                await connection.close()
