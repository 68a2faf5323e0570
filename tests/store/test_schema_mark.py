"""The store's schema mark (`Store.claim_schema`): a version marks the store with its layout,
raises an older mark, never lowers a newer one, and refuses to serve a store a newer version
marked (it would not see what that version moved)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from authsvc.server import ServeError, check_redis
from authsvc.store import SCHEMA_VERSION, Redis, Store

# A newer mark under the services' own prefix would stop the suite's long-lived services at
# their next heartbeat (as it must stop a real one): these tests mark a prefix of their own.
PREFIX = "schema-test"


@pytest.fixture
async def store(redis_url: str) -> AsyncIterator[Store]:
    own = Store(Redis.from_url(redis_url), prefix=PREFIX)
    await own.start()
    yield own
    await own.redis.execute("DEL", own.keys.schema())
    await own.close()


async def _mark(store: Store) -> str | None:
    mark: str | None = await store.redis.execute("GET", store.keys.schema())
    return mark


async def test_a_store_is_marked_and_an_older_mark_raised(store: Store) -> None:
    await store.redis.execute("DEL", store.keys.schema())
    assert await store.claim_schema() == 0
    assert await _mark(store) == str(SCHEMA_VERSION)
    await store.redis.execute("SET", store.keys.schema(), 1)
    await check_redis(store, embedded=False)
    assert await _mark(store) == str(SCHEMA_VERSION)


async def test_a_store_a_newer_version_marked_is_refused_and_keeps_its_mark(
        store: Store) -> None:
    await store.redis.execute("SET", store.keys.schema(), SCHEMA_VERSION + 1)
    with pytest.raises(ServeError, match=rf"newer authsvc \(schema {SCHEMA_VERSION + 1};"):
        await check_redis(store, embedded=False)
    assert await _mark(store) == str(SCHEMA_VERSION + 1)
    await store.redis.execute("DEL", store.keys.schema())
