"""`authsvc serve --workers N`: one supervisor process, N worker processes serving one port.

The supervisor binds the listen sockets once (a busy port stops the start with the usual line)
and starts N workers (``python -m authsvc.worker``), which inherit the sockets and accept from
the same kernel queue: no connection is lost while workers come and go, and a worker that dies
leaves its share to the others until it is restarted. It also owns what must exist once per
service, not once per worker: the embedded Redis (started and supervised here), the secret key
file (created before any worker could race to create it) and the announcements (base URL
heartbeat in Redis, ``DATA_DIR/outbox.json``), which live as long as the service and not as
long as one worker, so a rolling reload never withdraws them.

Signals: SIGTERM or SIGINT stop every worker gracefully (each stops accepting, finishes the
requests in flight within `SHUTDOWN_TIMEOUT_S`, wakes its long polls); SIGHUP is a rolling
reload: N new workers (new code, re-read certificate files) are started and ready before the
old ones are told to drain. "listening on" is logged once every worker serves. A newer version's
mark on the store, seen by the heartbeat, stops them all as SIGTERM would (`app.Superseded`).
The workers themselves are managed by `authsvc.workers`.

Workers never talk to each other: state lives in Redis, wake-ups go through its pub/sub.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from collections.abc import Sequence

from authsvc import __version__
from authsvc.app import Superseded, announcing, secret_box
from authsvc.clock import SystemClock
from authsvc.embedded_redis import EmbeddedRedis
from authsvc.loops import loop_factory
from authsvc.obs.metrics import prepare_workers
from authsvc.server import base_url, check_redis, listen_sockets, superseded_error, tls_context
from authsvc.services import Services
from authsvc.settings import Settings
from authsvc.store import Redis, Store
from authsvc.workers import Workers

log = logging.getLogger("authsvc")


async def _signals() -> asyncio.Queue[signal.Signals]:
    queue: asyncio.Queue[signal.Signals] = asyncio.Queue()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(signum, queue.put_nowait, signum)
    return queue


async def _started(workers: Workers, queue: asyncio.Queue[signal.Signals]) -> bool:
    """Start the workers; False if SIGTERM or SIGINT came first (a SIGHUP is dropped: the
    workers starting are new anyway). Raises ServeError if one cannot start."""
    starting = asyncio.get_running_loop().create_task(workers.start())
    while True:
        signalled = asyncio.get_running_loop().create_task(queue.get())
        await asyncio.wait({starting, signalled}, return_when=asyncio.FIRST_COMPLETED)
        if not signalled.done():
            signalled.cancel()
            starting.result()
            return True
        if signalled.result() != signal.SIGHUP:
            starting.cancel()
            await asyncio.gather(starting, return_exceptions=True)
            return False


async def supervise(settings: Settings, sockets: Sequence[socket.socket], count: int,
                    embedded: EmbeddedRedis | None) -> None:
    """Check Redis, start the workers, announce, and serve signals until SIGTERM/SIGINT."""
    assert settings.redis_url is not None  # noqa: S101 - set by serve_workers
    store = Store(Redis.from_url(settings.redis_url, timeout=settings.redis_timeout),
                  prefix=settings.key_prefix)
    try:
        await check_redis(store, embedded=embedded is not None)
        services = Services.build(settings, store, secret_box(settings), SystemClock())
        queue = await _signals()
        workers = Workers(settings, sockets, count)
        redis_watch = None if embedded is None else asyncio.get_running_loop().create_task(
            embedded.supervise())
        # A newer version's mark stops the workers as the operator's SIGTERM would.
        superseded = Superseded(on_found=lambda: queue.put_nowait(signal.SIGTERM))
        try:
            async with announcing(services, superseded):  # as one process does: before it serves
                if not await _started(workers, queue):
                    return
                log.info("authsvc %s listening on %s (%d workers, %s loop)", __version__,
                         base_url(settings, tls_context(settings)), count,
                         loop_factory(settings.event_loop)[1])
                while (await queue.get()) == signal.SIGHUP:
                    await workers.reload()
        finally:
            await workers.stop()
            if redis_watch is not None:
                redis_watch.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await redis_watch
    finally:
        await store.close()
    if (error := superseded_error(superseded)) is not None:
        raise error


def serve_workers(settings: Settings, count: int) -> int:
    """`authsvc serve` with `count` workers; returns the exit status."""
    embedded = None
    if not settings.redis_url:
        embedded = EmbeddedRedis(settings.data_dir, settings.redis_server)
        settings = settings.replace(redis_url=embedded.start())
    prepare_workers(settings.data_dir)  # one /metrics over every worker
    try:
        tls_context(settings)  # a bad certificate stops the start here, not in every worker
        sockets = listen_sockets(settings)
        try:
            settings = settings.replace(port=sockets[0].getsockname()[1])
            asyncio.run(supervise(settings, sockets, count, embedded))
        finally:
            for sock in sockets:
                sock.close()
    finally:
        if embedded is not None:
            embedded.stop()
    return 0
