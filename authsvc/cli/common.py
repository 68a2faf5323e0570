"""What the ``authsvc`` subcommands share: the subcommand groups, the store flags, and running an
action against the configured, the running embedded, or a temporary Redis."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from authsvc.app import secret_box
from authsvc.cli.tools import OneLineParser
from authsvc.clock import SystemClock
from authsvc.embedded_redis import EmbeddedRedis, running_url
from authsvc.services import Services, public_base_url
from authsvc.settings import Settings
from authsvc.store import Redis, Store

T = TypeVar("T")


if TYPE_CHECKING:
    Commands = argparse._SubParsersAction[OneLineParser]


def actions(commands: Commands, name: str, help_text: str) -> Commands:
    group = commands.add_parser(name, help=help_text)
    return group.add_subparsers(dest="action", required=True, parser_class=OneLineParser)


def add_store_flags(parser: argparse.ArgumentParser, *, redis: bool = True) -> None:
    parser.add_argument("--data-dir", type=Path, help="data directory (AUTHSVC_DATA_DIR, ./var)")
    if redis:
        parser.add_argument("--redis-url", help="external Redis (AUTHSVC_REDIS_URL)")


async def with_services(settings: Settings, action: Callable[[Services], Awaitable[T]],
                        links: bool) -> T:
    assert settings.redis_url is not None  # noqa: S101 - set by with_store
    redis = Redis.from_url(settings.redis_url, timeout=settings.redis_timeout,
                           wait_replicas=settings.redis_wait_replicas,
                           wait_ms=settings.redis_wait_ms)
    store = Store(redis, prefix=settings.key_prefix)
    clock = SystemClock()
    announced = None if settings.public_host else await store.announced_base_url(clock.now_ms())
    if announced is None and not settings.public_host and links:
        print(f"authsvc: note: no running service announced its address; links use "
              f"{public_base_url(settings)} (start the service first, or set "
              "AUTHSVC_PUBLIC_HOST)", file=sys.stderr)
    services = Services.build(settings, store, secret_box(settings), clock, announced)
    if services.webhook is not None:
        await services.webhook.start()
    try:
        return await action(services)
    finally:
        if services.webhook is not None:
            await services.webhook.close()
        await store.close()


def with_store(settings: Settings, action: Callable[[Services], Awaitable[T]], *,
               links: bool = False) -> T:
    """Run against the configured Redis, the running embedded one, or a temporary one;
    `links`: the action mails links (a note says when no running service gives their base)."""
    if settings.redis_url:
        return asyncio.run(with_services(settings, action, links))
    url = running_url(settings.data_dir)
    if url is not None:
        return asyncio.run(with_services(settings.replace(redis_url=url), action, links))
    embedded = EmbeddedRedis(settings.data_dir, settings.redis_server)
    try:
        return asyncio.run(with_services(settings.replace(redis_url=embedded.start()), action,
                                         links))
    finally:
        embedded.stop()
