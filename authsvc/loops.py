"""The event loop `authsvc serve` runs on: uvloop's when it is installed and wanted, else
asyncio's (``AUTHSVC_EVENT_LOOP=auto|asyncio|uvloop``).

uvloop handles sockets, TLS and timers in C (libuv) and takes about a tenth off the CPU of every
request. `UVLOOP_SUPPORTED` says whether the lean Redis client accepts uvloop's transports: it
once asserted ``isinstance(transport, asyncio.Transport)``, which uvloop's transports are not.
It does not since the Redis Cluster work, so ``auto`` means uvloop whenever it is installed
(it is a dependency on Linux).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from importlib import metadata
from typing import Any, TypeVar

from authsvc.settings import SettingsError

T = TypeVar("T")
UVLOOP_SUPPORTED = True  # the lean Redis client runs on uvloop (tests/store/test_redis_client_uvloop.py)
LoopFactory = Callable[[], asyncio.AbstractEventLoop]


def loop_factory(choice: str) -> tuple[LoopFactory | None, str]:
    """The factory for `choice` (None: asyncio's default) and a name for the log."""
    if choice == "asyncio":
        return None, "asyncio"
    try:
        import uvloop
    except ImportError:
        if choice == "uvloop":
            raise SettingsError("AUTHSVC_EVENT_LOOP=uvloop: uvloop is not installed "
                                "(pip install uvloop)") from None
        return None, "asyncio"
    if choice == "auto" and not UVLOOP_SUPPORTED:
        return None, "asyncio"
    return uvloop.new_event_loop, f"uvloop {metadata.version('uvloop')}"


def run(main: Coroutine[Any, Any, T], choice: str) -> T:
    """``asyncio.run(main)`` on the loop `choice` names."""
    factory, _ = loop_factory(choice)
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(main)
