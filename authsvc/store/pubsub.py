"""One subscriber connection per process on the events channel.

Push answers are decided in Redis and announced with PUBLISH; every process's subscriber hands
each message to a callback (which wakes the local waiters). When the connection drops, messages
may have been missed, so `on_reconnect` wakes every waiter to re-read its state.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Callable
from typing import Any

import hiredis

from authsvc.store.redis_client import RedisAddress, pack_command

log = logging.getLogger(__name__)


class Subscriber:
    """Keeps a SUBSCRIBE to one channel alive and reports every message."""

    def __init__(self, address: RedisAddress, channel: str, on_message: Callable[[str], None],
                 on_reconnect: Callable[[], None]) -> None:
        self._address = address
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
        address = self._address
        if address.unix_path:
            return await asyncio.open_unix_connection(address.unix_path)
        context = ssl.create_default_context() if address.tls else None
        return await asyncio.open_connection(address.host, address.port, ssl=context)

    async def _run(self) -> None:
        delay = 0.05
        while True:
            try:
                await self._listen()
            except (OSError, hiredis.ProtocolError, EOFError) as exc:
                log.debug("events subscriber lost its connection: %s", exc)
            self.subscribed.clear()
            self._on_reconnect()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)

    async def _listen(self) -> None:
        reader, writer = await self._open()
        try:
            if self._address.password is not None:
                login: tuple[str, ...] = (("AUTH", self._address.username, self._address.password)
                                          if self._address.username
                                          else ("AUTH", self._address.password))
                writer.write(pack_command(login))
            writer.write(pack_command(("SUBSCRIBE", self._channel)))
            parser = hiredis.Reader(encoding="utf-8", errors="surrogateescape")
            while True:
                data = await reader.read(65536)
                if not data:
                    raise EOFError("connection closed")
                parser.feed(data)
                while (reply := parser.gets()) is not False:
                    self._dispatch(reply)
        finally:
            writer.close()

    def _dispatch(self, reply: Any) -> None:
        if isinstance(reply, hiredis.ReplyError):
            raise EOFError(str(reply))
        if isinstance(reply, list) and reply and reply[0] == "subscribe":
            self.subscribed.set()
            self._on_reconnect()  # anything published before we listened must be re-read
        elif isinstance(reply, list) and len(reply) == 3 and reply[0] == "message":
            self._on_message(str(reply[2]))
