"""Fixtures for raw-HTTP tests: an aiohttp client session bound to the service (in this process)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.inprocess.api.wire import Wire
from tests.inprocess.serving import InProcessService


@pytest.fixture
async def wire(service: InProcessService, redis_url: str) -> AsyncIterator[Wire]:
    """Raw HTTP to `service` (after the per-test Redis flush)."""
    async with aiohttp.ClientSession(auto_decompress=True) as session:
        yield Wire(session, service.port)
