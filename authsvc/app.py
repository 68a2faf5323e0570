"""The aiohttp application factory (used by `authsvc serve`, the tests and the benchmark).

Start-up and shutdown are cleanup contexts, in order: the store (scripts registered), the events
subscriber (push wake-ups from every process), the background work (webhook retries, the
"Not enrolled" sweep, the Trash sweep), then the announcements (base URL in Redis, the outbox
discovery file).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from aiohttp import web
from aiohttp.typedefs import Middleware

from authsvc.clock import Clock, SystemClock
from authsvc.crypto import SecretBox, load_or_create_master_key
from authsvc.discovery import announce_outbox, withdraw_outbox
from authsvc.errors import StoreUnavailable
from authsvc.http import (
    admin_account,
    admin_admins,
    admin_enroll,
    admin_groups,
    admin_integrations,
    admin_phones,
    admin_tokens,
    admin_trash,
    admin_units,
    admin_users,
    auth_api,
    carrier,
    device_api,
    oauth,
    observe,
    openapi,
    outbox,
    pages,
    panel,
    portal,
    prompt,
    prompt_devices,
    security_keys,
)
from authsvc.http.middleware import SERVICES, error_middleware, signature_middleware
from authsvc.http.observe import metrics_listener, observe_middleware
from authsvc.http.proxies import proxy_middleware
from authsvc.http.web import page_middleware, setup_templates
from authsvc.obs.metrics import count_round_trip
from authsvc.services import Services
from authsvc.settings import Settings, SettingsError
from authsvc.store import Redis, Store, marked_newer
from authsvc.store.slots import slot_tags

KEY_FILE_NAME = "secret.key"
SUBSCRIBE_WAIT_S = 2.0
ANNOUNCE_EVERY_S = 5.0  # the base URL's heartbeat; a process that dies is forgotten after
ANNOUNCE_TTL_MS = 15_000  # ... this long
# A full (generation 2) collection is tried after this many younger ones (CPython's default:
# 10). With 10,000 phones long-polling, a full pass walks over a million live objects with the
# loop stopped (0.2-0.8 s measured, 16 passes in a 3-minute bench) and frees nothing: those are
# the polls' own, alive. Young passes still free the cycles requests leave. At 1000, one full
# pass in the same run and the open-loop p99 from 1,043 ms to 46 ms (docs/performance.md).
FULL_COLLECTION_AFTER = 1000
# A young (generation 0) pass runs when tracked objects allocated minus freed since the last
# one exceed this (CPython's default: 700). At full load the objects of the requests in flight
# alone pass 700 again and again: 1,328 young passes in one passcode bench (0.93 s of its 21 s
# of CPU) over objects still alive. At 3,000, 53 (0.15 s); higher cuts few more but makes every
# middle pass longer where many objects live long (10,000 phones' long polls: at 10,000 the
# longest middle pass measured 208-245 ms against 41-87 ms at 700-3,000; docs/performance.md).
YOUNG_COLLECTION_AFTER = 3_000
ROUTES = (auth_api, admin_admins, admin_enroll, admin_trash, admin_users, admin_tokens,
          admin_phones, admin_account, admin_groups, admin_integrations, admin_units, device_api,
          carrier, outbox, pages, portal, security_keys, oauth, prompt, prompt_devices, openapi,
          observe, panel)


@dataclass
class Superseded:
    """Set by the heartbeat when the store carries the mark of a newer version (`found`): one
    started against this Redis meanwhile and lays data out in ways this one would not see, so
    the process that announces (the supervisor, or the one process) stops serving."""

    on_found: Callable[[], None] | None = None  # called once, at the first newer mark
    found: int = 0
    event: asyncio.Event = field(default_factory=asyncio.Event)

    def __call__(self, found: int) -> None:
        first, self.found = not self.found, found
        self.event.set()
        if first and self.on_found is not None:
            self.on_found()


SUPERSEDED = web.AppKey("superseded", Superseded)


def secret_box(settings: Settings) -> SecretBox:
    """The box for secrets at rest: ``AUTHSVC_SECRET_KEY``, else the key file in the data dir."""
    if settings.secret_key is not None:
        return SecretBox.from_passphrase(settings.secret_key.value)
    return SecretBox(load_or_create_master_key(settings.data_dir / KEY_FILE_NAME))


def create_app(
    settings: Settings,
    *,
    redis: Redis | None = None,
    clock: Clock | None = None,
    box: SecretBox | None = None,
    announce: bool = True,
) -> web.Application:
    """The service. Without `redis`, connects to ``settings.redis_url`` (which must be set).
    `announce`: this process announces its base URL and the outbox (the workers of
    `authsvc serve --workers N` leave that to their supervisor, which outlives them)."""
    if redis is None:
        if not settings.redis_url:
            raise SettingsError("AUTHSVC_REDIS_URL is not set (authsvc serve sets it)")
        redis = Redis.from_url(settings.redis_url, timeout=settings.redis_timeout,
                               wait_replicas=settings.redis_wait_replicas,
                               wait_ms=settings.redis_wait_ms)
    redis.on_round_trip = count_round_trip
    store = Store(redis, prefix=settings.key_prefix,
                  authlog_max_entries=settings.authlog_max_entries,
                  authlog_retention_ms=settings.authlog_retention_days * 86_400_000)
    middlewares: list[Middleware] = [error_middleware, page_middleware, panel.panel_middleware,
                                     signature_middleware]
    if settings.trusted_proxies:
        middlewares.insert(0, proxy_middleware(settings.trusted_proxies))
    middlewares.insert(0, observe_middleware)  # outermost: every answer counted and timed
    app = web.Application(middlewares=middlewares, client_max_size=settings.max_body_bytes)
    app[SUPERSEDED] = Superseded()
    setup_templates(app)
    app[SERVICES] = Services.build(settings, store, box or secret_box(settings),
                                   clock or SystemClock())
    app.cleanup_ctx.extend([_store_lifetime, _events_lifetime, _background_lifetime,
                            metrics_listener])  # every worker: the port is SO_REUSEPORT
    if announce:
        app.cleanup_ctx.append(_announce)
    app.on_shutdown.append(_release_waiters)
    for module in ROUTES:
        module.setup_routes(app)
    return app


async def _store_lifetime(app: web.Application) -> AsyncIterator[None]:
    store = app[SERVICES].store
    await store.start()
    yield
    await store.close()


async def _events_lifetime(app: web.Application) -> AsyncIterator[None]:
    """One subscriber per process wakes the local waiters of pushes and phones, and drops
    changed integrations from the credentials cache."""
    services = app[SERVICES]
    events = services.store.events(services.on_event, services.on_events_reconnect)
    events.start()
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(SUBSCRIBE_WAIT_S):
            await events.subscribed.wait()
    yield
    await events.close()


async def _background_lifetime(app: web.Application) -> AsyncIterator[None]:
    services = app[SERVICES]
    if services.webhook is not None:
        await services.webhook.start()
    loop = asyncio.get_running_loop()
    settings = services.settings
    sweepers = [loop.create_task(services.unenrolled.run(settings.unenrolled_sweep_seconds)),
                loop.create_task(services.trash_sweep.run(settings.trash_sweep_seconds)),
                loop.create_task(_index_users(services))]
    slot_tags()  # the counters' shard tags (~34 ms of CRCs) now, not in the first sign-in
    # Everything built at start-up lives as long as the process: keep it out of the
    # collector's full passes, which otherwise stop the loop for 15-35 ms at full load.
    gc.collect()
    gc.freeze()
    _, middle, _ = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_AFTER, middle, FULL_COLLECTION_AFTER)
    yield
    for sweeper in sweepers:
        sweeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sweeper
    if services.webhook is not None:
        await services.webhook.close()


async def _index_users(services: Services) -> None:
    """Put users stored before the Admin Panel's search index existed into it (once)."""
    with contextlib.suppress(StoreUnavailable):
        await services.panel.finder.rebuild_index()


async def _announce(app: web.Application) -> AsyncIterator[None]:
    async with announcing(app[SERVICES], app[SUPERSEDED]):
        yield


@contextlib.asynccontextmanager
async def announcing(services: Services, superseded: Superseded) -> AsyncIterator[None]:
    """Tell CLI commands which base URL to put in links, as long as the block runs (a
    heartbeat; withdrawn on exit), and a carrier where the outbox is. Each beat also reads the
    store's schema mark and calls `superseded` when a newer version marked it."""
    _announce_outbox(services, only_if_missing=False)
    heartbeat = asyncio.get_running_loop().create_task(_keep_announcing(services, superseded))
    try:
        yield
    finally:
        heartbeat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await heartbeat
        with contextlib.suppress(StoreUnavailable):
            await services.store.withdraw_base_url(services.links.base_url)
        if services.outbox is not None:
            withdraw_outbox(services.settings.data_dir, services.links.base_url)


def _announce_outbox(services: Services, *, only_if_missing: bool) -> None:
    if services.outbox is not None:
        announce_outbox(services.settings.data_dir, services.links.base_url,
                        services.outbox.token, only_if_missing=only_if_missing)


async def _keep_announcing(services: Services, superseded: Superseded) -> None:
    started_ms = services.clock.now_ms()
    while True:
        with contextlib.suppress(StoreUnavailable):
            await services.store.announce_base_url(
                services.links.base_url, started_ms=started_ms,
                expires_ms=services.clock.now_ms() + ANNOUNCE_TTL_MS)
            found = await services.store.schema_mark()
            if marked_newer(found):
                superseded(found)
        _announce_outbox(services, only_if_missing=True)  # another process withdrew it
        await asyncio.sleep(ANNOUNCE_EVERY_S)


async def _release_waiters(app: web.Application) -> None:
    app[SERVICES].waiters.close()
