"""Running the service: check Redis, start the app, bind, serve until SIGINT/SIGTERM, stop.

Not `web.run_app`, for three reasons that a new operator meets in the first hour: the
"listening on" line must come after the port is bound (not before a bind that then fails),
a busy port or an unreachable ``AUTHSVC_REDIS_URL`` must stop the start with one clear line
(not a traceback, not a service that starts and fails every request), and connections are built
by `DuoRequestHandler`, so that requests aiohttp cannot parse still get Duo's envelope.
Everything else is aiohttp's public runner: `AppRunner.setup` runs the cleanup contexts,
`AppRunner.cleanup` closes connections (waiting up to `SHUTDOWN_TIMEOUT_S` for requests in
flight) and runs them backwards.

With ``--workers N`` (default: one per CPU core) `authsvc.supervisor` binds the port once and
runs N processes that serve it through `serve_app` on the inherited sockets; ``--workers 1`` is
the single process described here.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import functools
import logging
import os
import resource
import signal
import socket
import ssl
from collections.abc import Callable, Sequence
from typing import Any

from aiohttp import web

from authsvc import __version__
from authsvc.app import SUPERSEDED, Superseded, create_app
from authsvc.embedded_redis import EmbeddedRedis
from authsvc.errors import StoreUnavailable
from authsvc.http.middleware import SERVICES
from authsvc.http.protocol import DuoRequestHandler
from authsvc.http.redaction import RedactingAccessLogger
from authsvc.loops import loop_factory, run
from authsvc.settings import Settings
from authsvc.store import SCHEMA_VERSION, Store, marked_newer

log = logging.getLogger("authsvc")
SHUTDOWN_TIMEOUT_S = 5.0
FRESH_CONNECTION_GRACE_S = 2.0  # at a stop, how long a connection accepted silent may take to speak
KEEPALIVE_TIMEOUT_S = 75.0
REDIS_START_TRIES = 5
REDIS_START_PAUSE_S = 0.5


class ServeError(Exception):
    """The service cannot start; the message says why and what to do, in one line."""


async def check_redis(store: Store, *, embedded: bool) -> None:
    """Raise ServeError unless Redis answers (a few tries: it may be starting too) with a store
    this version may serve: one no newer version has marked (`Store.claim_schema`)."""
    await _reach(store, embedded=embedded)
    try:
        found = await store.claim_schema()
    except StoreUnavailable as exc:
        raise ServeError(f"{exc} (while reading the store's schema mark)") from None
    if marked_newer(found):
        raise ServeError(newer_schema_message(found))


def newer_schema_message(found: int) -> str:
    """Why this version does not serve a store a newer one marked (`Store.claim_schema`)."""
    return (f"this Redis holds data laid out by a newer authsvc (schema {found}; authsvc "
            f"{__version__} knows {SCHEMA_VERSION}): run that version or a later one, since "
            "this one would not see what the newer one moved (docs/configuration.md, upgrades)")


def superseded_error(superseded: Superseded) -> ServeError | None:
    """The error a serving process stops with when its heartbeat found a newer mark."""
    if not superseded.found:
        return None
    return ServeError(f"stopped serving: {newer_schema_message(superseded.found)}")


async def _reach(store: Store, *, embedded: bool) -> None:
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


def listen_sockets(settings: Settings) -> list[socket.socket]:
    """Bind and listen on every address of the host (as asyncio's create_server would), with
    the configured backlog; a busy port or an address that cannot be bound is a ServeError."""
    infos = socket.getaddrinfo(settings.host or None, settings.port, type=socket.SOCK_STREAM,
                               flags=socket.AI_PASSIVE)
    sockets: list[socket.socket] = []
    try:
        for family, kind, proto, _, address in dict.fromkeys(
                (info[0], info[1], info[2], "", info[4]) for info in infos):
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)
            sock.listen(settings.listen_backlog)
    except OSError as exc:
        for sock in sockets:
            sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ServeError(busy_port_message(settings)) from None
        raise ServeError(f"cannot listen on {settings.host}:{settings.port}: "
                         f"{exc.strerror or exc}") from None
    return sockets


async def _serve_on(runner: web.AppRunner, settings: Settings, ssl_context: ssl.SSLContext | None,
                    sockets: Sequence[socket.socket]) -> list[asyncio.Server]:
    loop = asyncio.get_running_loop()
    assert runner.server is not None  # noqa: S101 - after setup()
    # access_log=None turns the access log off (aiohttp's stub types it as a Logger only).
    access: dict[str, Any] = {
        "access_log": logging.getLogger("aiohttp.access") if settings.access_log else None}
    factory = functools.partial(
        DuoRequestHandler, runner.server, loop=loop, keepalive_timeout=KEEPALIVE_TIMEOUT_S,
        access_log_class=RedactingAccessLogger, **access)
    return [await loop.create_server(factory, sock=sock, ssl=ssl_context,
                                     backlog=settings.listen_backlog) for sock in sockets]


async def serve_app(app: web.Application, settings: Settings, ssl_context: ssl.SSLContext | None,
                    embedded: EmbeddedRedis | None = None, *,
                    sockets: Sequence[socket.socket] | None = None,
                    on_ready: Callable[[], None] | None = None,
                    stop_signals: Sequence[signal.Signals] = (signal.SIGINT, signal.SIGTERM)
                    ) -> None:
    """Serve `app` until one of `stop_signals`; raises ServeError if it cannot start, or
    after a graceful stop when a newer version marked the store meanwhile (`Superseded`).
    `sockets`: already bound (a worker's, inherited); `on_ready` replaces the "listening on"
    line."""
    await check_redis(app[SERVICES].store, embedded=embedded is not None)
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=SHUTDOWN_TIMEOUT_S)
    await runner.setup()
    supervisor = None
    try:
        servers = await _serve_on(runner, settings, ssl_context,
                                  listen_sockets(settings) if sockets is None else sockets)
        if on_ready is None:
            log.info("authsvc %s listening on %s (1 process, %s loop)", __version__,
                     base_url(settings, ssl_context), loop_factory(settings.event_loop)[1])
        else:
            on_ready()
        if embedded is not None:
            supervisor = asyncio.get_running_loop().create_task(embedded.supervise())
        await signalled(stop_signals, app[SUPERSEDED].event)
        for server in servers:
            server.close()
        await hear_out_fresh_connections(runner)
    finally:
        if supervisor is not None:
            supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await supervisor
        await runner.cleanup()
    if (error := superseded_error(app[SUPERSEDED])) is not None:
        raise error


async def hear_out_fresh_connections(runner: web.AppRunner,
                                     grace: float = FRESH_CONNECTION_GRACE_S) -> None:
    """After the listeners closed: wait (at most `grace`) until every connection has sent
    something or gone. One accepted in the instant before the close may not have sent its
    request yet (a TLS handshake takes round trips), and aiohttp's shutdown would close it as an
    idle keep-alive connection, unanswered: a reload would then cut that request
    (tests/e2e/test_workers.py)."""
    server = runner.server
    if server is None:
        return
    loop = asyncio.get_running_loop()
    deadline = loop.time() + grace
    while loop.time() < deadline and any(
            not getattr(connection, "heard_from", True) for connection in server.connections):
        await asyncio.sleep(0.01)


def base_url(settings: Settings, ssl_context: ssl.SSLContext | None) -> str:
    """What "listening on" names."""
    return f"{'https' if ssl_context else 'http'}://{settings.host}:{settings.port}"


async def signalled(signals: Sequence[signal.Signals], stop: asyncio.Event) -> None:
    """Return at one of `signals`, or when `stop` is set."""
    loop = asyncio.get_running_loop()
    for signum in signals:
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()


def tls_context(settings: Settings) -> ssl.SSLContext | None:
    """The server's TLS context, when a certificate and key are configured."""
    if not (settings.tls_cert and settings.tls_key):
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(settings.tls_cert, settings.tls_key)
    return context


def raise_open_files_limit() -> None:
    """Every connection (a phone's long poll, a kept-alive client) is a file descriptor: take
    the hard limit, not the soft one (often 1,024)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def worker_count(settings: Settings) -> int:
    """``--workers``; 0 means one per CPU core this process may run on."""
    if settings.workers:
        return settings.workers
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def serve(settings: Settings) -> int:
    """`authsvc serve`: run until SIGINT/SIGTERM; the embedded Redis (if any) is supervised and
    stops with the service. More than one worker: `authsvc.supervisor`."""
    raise_open_files_limit()
    workers = worker_count(settings)
    if workers > 1:
        from authsvc.supervisor import serve_workers  # it imports this module

        return serve_workers(settings, workers)
    embedded = None
    if not settings.redis_url:
        embedded = EmbeddedRedis(settings.data_dir, settings.redis_server)
        settings = settings.replace(redis_url=embedded.start())
    try:
        ssl_context = tls_context(settings)

        async def main() -> None:
            await serve_app(create_app(settings), settings, ssl_context, embedded)

        run(main(), settings.event_loop)
    finally:
        if embedded is not None:
            embedded.stop()
    return 0
