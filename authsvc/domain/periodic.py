"""A background job run every few seconds by each process (the sweeps hold a lock in Redis so
that one process does the work): Redis outages and failures only delay it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from authsvc.errors import StoreUnavailable

log = logging.getLogger(__name__)


async def run_every(every_s: float, job: Callable[[], Awaitable[object]], name: str, *,
                    at_once: bool = False) -> None:
    """Run `job` every `every_s` seconds (first at once when `at_once`) until cancelled."""
    if not at_once:
        await asyncio.sleep(every_s)
    while True:
        try:
            await job()
        except StoreUnavailable as exc:
            log.warning("%s skipped: %s", name, exc)
        except Exception:  # a background loop must outlive any one failed run
            log.exception("%s failed; trying again in %g s", name, every_s)
        await asyncio.sleep(every_s)
