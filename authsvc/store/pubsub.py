"""One subscriber connection per process on the events channel.

Push answers are decided in Redis and announced with PUBLISH; every process's subscriber hands
each message to a callback (which wakes the local waiters). When the connection drops, messages
may have been missed, so `on_reconnect` wakes every waiter to re-read its state.

Where to listen comes from `addresses` on every (re)connection: the one server, the master the
Sentinels name now, or any node of a Redis Cluster (a PUBLISH on any node reaches the
subscribers of every node). After a failure the next candidate is tried first, so a subscriber
whose node died moves to another. A silent connection is probed with PING every
`KEEPALIVE_S`; one that stays silent for two probes is dropped (a node that hangs instead of
closing).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Awaitable, Callable
from typing import Any

import hiredis

from authsvc.store.redis_conn import pack_command
from authsvc.store.redis_errors import RedisUnavailable
from authsvc.store.redis_url import RedisAddress

log = logging.getLogger(__name__)

KEEPALIVE_S = 1.0
RECONNECT_FIRST_S = 0.05
RECONNECT_MAX_S = 2.0


class Subscriber:
    """Keeps a SUBSCRIBE to one channel alive and reports every message."""

    def __init__(self, addresses: Callable[[], Awaitable[list[RedisAddress]]], channel: str,
                 on_message: Callable[[str], None], on_reconnect: Callable[[], None]) -> None:
        self._addresses = addresses
        self._attempt = 0
        self.address: RedisAddress | None = None
        self._channel = channel
        self._on_message = on_message
        self._on_reconnect = on_reconnect
        self._task: asyncio.Task[None] | None = None
        self.subscribed = asyncio.Event()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        candidates = await self._addresses()
        address = candidates[self._attempt % len(candidates)]
        self.address = address
        if address.unix_path:
            return await asyncio.open_unix_connection(address.unix_path)
        context = ssl.create_default_context() if address.tls else None
        return await asyncio.open_connection(address.host, address.port, ssl=context)

    async def _run(self) -> None:
        delay = RECONNECT_FIRST_S
        while True:
            try:
                await self._listen()
            except (OSError, hiredis.ProtocolError, EOFError, TimeoutError,
                    RedisUnavailable) as exc:
                log.debug("events subscriber lost its connection: %s", exc)
            if self.subscribed.is_set():
                # It was listening: this is a new outage, retried soon (the waits grown by an
                # earlier one would leave every long poll unwoken for seconds).
                delay = RECONNECT_FIRST_S
            self._attempt += 1
            self.subscribed.clear()
            self._on_reconnect()
            await asyncio.sleep(delay)
            delay = min(delay * 2, RECONNECT_MAX_S)

    async def _listen(self) -> None:
        async with asyncio.timeout(5.0):
            reader, writer = await self._open()
        try:
            address = self.address
            if address is not None and address.password is not None:
                login: tuple[str, ...] = (("AUTH", address.username, address.password)
                                          if address.username else ("AUTH", address.password))
                writer.write(pack_command(login))
            writer.write(pack_command(("SUBSCRIBE", self._channel)))
            parser = hiredis.Reader(encoding="utf-8", errors="surrogateescape")
            silent = 0
            while True:
                try:
                    data = await asyncio.wait_for(reader.read(65536), KEEPALIVE_S)
                except TimeoutError:
                    silent += 1
                    if silent > 2:
                        raise
                    writer.write(pack_command(("PING",)))
                    continue
                if not data:
                    raise EOFError("connection closed")
                silent = 0
                parser.feed(data)
                while (reply := parser.gets()) is not False:
                    self._dispatch(reply)
        finally:
            writer.close()

    def _dispatch(self, reply: Any) -> None:
        if isinstance(reply, hiredis.ReplyError):
            raise EOFError(str(reply))
        if isinstance(reply, list) and reply and reply[0] == "pong":
            return
        if isinstance(reply, list) and reply and reply[0] == "subscribe":
            self.subscribed.set()
            self._on_reconnect()  # anything published before we listened must be re-read
        elif isinstance(reply, list) and len(reply) == 3 and reply[0] == "message":
            self._on_message(str(reply[2]))
