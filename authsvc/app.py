"""The aiohttp application factory (used by `authsvc serve`, the tests and the benchmark)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator

from aiohttp import web

from authsvc.clock import Clock, SystemClock
from authsvc.crypto import SecretBox, load_or_create_master_key
from authsvc.http import (
    admin_account,
    admin_enroll,
    admin_phones,
    admin_tokens,
    admin_users,
    auth_api,
    carrier,
    device_api,
    outbox,
    pages,
    portal,
    security_keys,
)
from authsvc.http.middleware import SERVICES, error_middleware, signature_middleware
from authsvc.services import Services
from authsvc.settings import Settings, SettingsError
from authsvc.store import Redis, RedisUnavailable, Store
from authsvc.store.pubsub import Subscriber

KEY_FILE_NAME = "secret.key"
SUBSCRIBE_WAIT_S = 2.0


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
) -> web.Application:
    """The service. Without `redis`, connects to ``settings.redis_url`` (which must be set)."""
    if redis is None:
        if not settings.redis_url:
            raise SettingsError("AUTHSVC_REDIS_URL is not set (authsvc serve sets it)")
        redis = Redis.from_url(settings.redis_url, timeout=settings.redis_timeout)
    store = Store(redis, prefix=settings.key_prefix,
                  authlog_max_entries=settings.authlog_max_entries)
    app = web.Application(middlewares=[error_middleware, signature_middleware],
                          client_max_size=settings.max_body_bytes)
    services = Services.build(settings, store, box or secret_box(settings),
                              clock or SystemClock())
    app[SERVICES] = services

    async def redis_lifetime(_: web.Application) -> AsyncIterator[None]:
        await store.start()
        waiters = services.waiters
        events = Subscriber(store.redis.address, store.keys.events(), waiters.announce,
                            waiters.announce_all)
        events.start()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(SUBSCRIBE_WAIT_S):
                await events.subscribed.wait()
        # Everything built at start-up lives as long as the process: keep it out of the
        # collector's full passes, which otherwise stop the loop for 15-35 ms at full load.
        if services.webhook is not None:
            await services.webhook.start()
        with contextlib.suppress(RedisUnavailable):
            await store.redis.execute("SET", store.keys.announced_base_url(),
                                      services.links.base_url)
        sweeper = asyncio.get_running_loop().create_task(
            services.unenrolled.run(settings.unenrolled_sweep_seconds))
        gc.collect()
        gc.freeze()
        yield
        sweeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sweeper
        if services.webhook is not None:
            await services.webhook.close()
        await events.close()
        await store.close()

    async def release_waiters(_: web.Application) -> None:
        services.waiters.close()

    app.on_shutdown.append(release_waiters)
    app.cleanup_ctx.append(redis_lifetime)
    for module in (auth_api, admin_enroll, admin_users, admin_tokens, admin_phones, admin_account, device_api,
                   carrier, outbox, pages, portal, security_keys):
        module.setup_routes(app)
    return app
