"""The Users page at scale: the Redis round trips of one request (session included) are the same
at 10,000 and at 30,000 users, for a page, a search and a status filter; and, with
``AUTHSVC_PANEL_SCALE=100000``, the server time of each at 100,000 users (docs/performance.md):

    AUTHSVC_PANEL_SCALE=100000 .venv/bin/python -m pytest tests/panel/test_users_page_scale.py -s

Users are written straight into Redis in pipelines (the records `UserStore.create` writes with
its counting script, the name index, the listing, the search index), 1,000 at a time: the Admin
API would take minutes.
"""

from __future__ import annotations

import os
import time
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from authsvc.model.users import User, UserStatus
from authsvc.store import Store
from authsvc.store.records import user_to_hash
from authsvc.store.scripts import ScriptName
from authsvc.store.user_search import index_commands
from tests.panel.conftest import Panel, sign_in
from tests.store.counting import CountingRedis

Client = TestClient[Any, Any]
BATCH = 1000
PAGES = ("/admin/users", "/admin/users?q=user00042", "/admin/users?status=bypass",
         "/admin/users?offset=9000&limit=100")


async def seed_users(store: Store, first: int, count: int) -> None:
    """`count` users (every 500th in bypass status), `first` onwards."""
    keys = store.keys
    for start in range(first, first + count, BATCH):
        commands: list[tuple[Any, ...]] = []
        for n in range(start, min(start + BATCH, first + count)):
            user = User(user_id=f"DU{n:018d}", username=f"user{n:05d}", created=1_800_000_000,
                        realname=f"User Number{n}", email=f"user{n}@example.org",
                        status=UserStatus.BYPASS if n % 500 == 499 else UserStatus.ACTIVE)
            flat = [item for pair in user_to_hash(user).items() for item in pair]
            commands += [("SETBIT", keys.count_slots(), keys.user_slot(user.user_id), 1),
                         store.scripts.command(ScriptName.USER_CREATE, [
                             keys.user(user.user_id), *keys.counting(user.user_id)], flat),
                         ("HSET", keys.username_index(), user.username, user.user_id),
                         ("ZADD", keys.users(), 1_800_000_000_000 + n, user.user_id),
                         *index_commands(keys, None, user)]
        await store.redis.pipeline(commands)


async def _trips(client: Client, path: str) -> tuple[int, float]:
    CountingRedis.round_trips = 0
    started = time.perf_counter()
    reply = await client.get(path)
    elapsed = time.perf_counter() - started
    assert reply.status == 200, await reply.text()
    await reply.read()
    return CountingRedis.round_trips, elapsed


async def _fewest_trips(client: Client, path: str) -> int:
    """The request's round trips: the counter is the process's, and the service's background
    work (the base URL's heartbeat, the sweeps) may add one now and then; three tries, the
    fewest."""
    return min([(await _trips(client, path))[0] for _ in range(3)])


@pytest.mark.slow
async def test_the_users_page_costs_the_same_round_trips_at_10000_and_30000_users(
        panel: Panel, browser: Client) -> None:
    owner = await panel.admin("owner@example.org")
    await sign_in(browser, owner)
    store = panel.services.store
    await seed_users(store, 0, 10_000)
    await _trips(browser, "/admin")  # the user counts, read once per process every 10 s
    small = {path: await _fewest_trips(browser, path) for path in PAGES}
    await seed_users(store, 10_000, 20_000)
    large = {path: await _fewest_trips(browser, path) for path in PAGES}
    assert large == small, (small, large)
    # session + listing + users and devices (two pipelines); a filter at most four windows of
    # two round trips each.
    assert max(large.values()) <= 12 and large["/admin/users"] <= 4, large
    html = await (await browser.get("/admin/users?q=user00042")).text()
    assert "user00042" in html and "user00043" not in html


@pytest.mark.skipif(not os.environ.get("AUTHSVC_PANEL_SCALE"),
                    reason="AUTHSVC_PANEL_SCALE=100000 measures the server time at scale")
async def test_server_time_of_the_users_page_at_scale(panel: Panel, browser: Client) -> None:
    count = int(os.environ["AUTHSVC_PANEL_SCALE"])
    owner = await panel.admin("owner@example.org")
    await sign_in(browser, owner)
    await seed_users(panel.services.store, 0, count)
    trips, elapsed = await _trips(browser, "/admin")  # the user counts: every slot summed
    print(f"\nDashboard with a fresh reading of the counts: {elapsed * 1000:.1f} ms, "
          f"{trips} trips")
    paths = (*PAGES, f"/admin/users?offset={count - 50}", "/admin/users?status=disabled")
    print(f"Users page at {count:,} users, 20 requests each (median, max; round trips):")
    for path in paths:
        timings, trips = [], 0
        for _ in range(20):
            trips, elapsed = await _trips(browser, path)
            timings.append(elapsed * 1000)
        timings.sort()
        print(f"  {path:45} {timings[10]:7.1f} ms  {timings[-1]:7.1f} ms  {trips} trips")
