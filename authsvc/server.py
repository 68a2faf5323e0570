"""Running the service: check Redis, start the app, bind, serve until SIGINT/SIGTERM, stop.

Not `web.run_app`, for three reasons that a new operator meets in the first hour: the
"listening on" line must come after the port is bound (not before a bind that then fails),
a busy port or an unreachable ``AUTHSVC_REDIS_URL`` must stop the start with one clear line
(not a traceback, not a service that starts and fails every request), and connections are built
by `DuoRequestHandler`, so that requests aiohttp cannot parse still get Duo's envelope.
Everything else is aiohttp's public runner: `AppRunner.setup` runs the cleanup contexts,
`AppRunner.cleanup` closes connections (waiting up to `SHUTDOWN_TIMEOUT_S` for requests in
flight) and runs them backwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import functools
import logging
import signal
import ssl
from typing import Any

from aiohttp import web

from authsvc import __version__
from authsvc.app import create_app
from authsvc.embedded_redis import EmbeddedRedis
from authsvc.errors import StoreUnavailable
from authsvc.http.middleware import SERVICES
from authsvc.http.protocol import DuoRequestHandler
from authsvc.http.redaction import RedactingAccessLogger
from authsvc.settings import Settings

log = logging.getLogger("authsvc")
SHUTDOWN_TIMEOUT_S = 5.0
KEEPALIVE_TIMEOUT_S = 75.0
BACKLOG = 128
REDIS_START_TRIES = 5
REDIS_START_PAUSE_S = 0.5


class ServeError(Exception):
    """The service cannot start; the message says why and what to do, in one line."""


async def check_redis(app: web.Application, *, embedded: bool) -> None:
    """Raise ServeError unless Redis answers (a few tries: it may be starting too)."""
    store = app[SERVICES].store
    for attempt in range(REDIS_START_TRIES):
        try:
            await store.ping()
            return
        except StoreUnavailable as exc:
            if attempt == REDIS_START_TRIES - 1:
                if embedded:
                    raise ServeError(f"{exc} (the embedded Redis; see its redis.log)") from None
                raise ServeError(f"{exc} (AUTHSVC_REDIS_URL); start that Redis, correct the "
                                 "URL, or unset AUTHSVC_REDIS_URL to use the embedded one"
                                 ) from None
        await asyncio.sleep(REDIS_START_PAUSE_S)


def busy_port_message(settings: Settings) -> str:
    hint = (f"port {settings.port} on {settings.host} is already in use (another authsvc, or "
            f"another program: 'ss -ltnp sport = :{settings.port}' shows which); stop it or "
            "choose another port with --port / AUTHSVC_PORT")
    if settings.port == 8443:
        hint += " (8443 is a common TLS port: e.g. --port 9443, and the same port in links)"
    return hint


async def _bind(runner: web.AppRunner, settings: Settings,
                ssl_context: ssl.SSLContext | None) -> asyncio.Server:
    loop = asyncio.get_running_loop()
    assert runner.server is not None  # noqa: S101 - after setup()
    # access_log=None turns the access log off (aiohttp's stub types it as a Logger only).
    access: dict[str, Any] = {
        "access_log": logging.getLogger("aiohttp.access") if settings.access_log else None}
    factory = functools.partial(
        DuoRequestHandler, runner.server, loop=loop, keepalive_timeout=KEEPALIVE_TIMEOUT_S,
        access_log_class=RedactingAccessLogger, **access)
    try:
        return await loop.create_server(factory, settings.host, settings.port, ssl=ssl_context,
                                        backlog=BACKLOG)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise ServeError(busy_port_message(settings)) from None
        raise ServeError(f"cannot listen on {settings.host}:{settings.port}: "
                         f"{exc.strerror or exc}") from None


async def serve_app(app: web.Application, settings: Settings, ssl_context: ssl.SSLContext | None,
                    embedded: EmbeddedRedis | None = None) -> None:
    """Serve `app` until SIGINT or SIGTERM; raises ServeError if it cannot start."""
    await check_redis(app, embedded=embedded is not None)
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=SHUTDOWN_TIMEOUT_S)
    await runner.setup()
    supervisor = None
    try:
        server = await _bind(runner, settings, ssl_context)
        scheme = "https" if ssl_context else "http"
        log.info("authsvc %s listening on %s://%s:%d", __version__, scheme, settings.host,
                 settings.port)
        if embedded is not None:
            supervisor = asyncio.get_running_loop().create_task(embedded.supervise())
        await _signalled()
        server.close()
    finally:
        if supervisor is not None:
            supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await supervisor
        await runner.cleanup()


async def _signalled() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()


def serve(settings: Settings) -> int:
    """`authsvc serve`: run until SIGINT/SIGTERM; the embedded Redis (if any) is supervised and
    stops with the service."""
    embedded = None
    if not settings.redis_url:
        embedded = EmbeddedRedis(settings.data_dir, settings.redis_server)
        settings = settings.replace(redis_url=embedded.start())
    try:
        ssl_context = None
        if settings.tls_cert and settings.tls_key:
            ssl_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ssl_context.load_cert_chain(settings.tls_cert, settings.tls_key)

        async def run() -> None:
            await serve_app(create_app(settings), settings, ssl_context, embedded)

        asyncio.run(run())
    finally:
        if embedded is not None:
            embedded.stop()
    return 0
