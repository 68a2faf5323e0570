"""Awaited round trips of a restricted administrator's user listing, counted on a real Redis:
constant whatever the page size (up to `store/scope.py` CHUNK users in scope), the figure in
docs/performance.md."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from authsvc.clock import FakeClock
from authsvc.crypto import SecretBox
from authsvc.domain.groups import GroupChanges
from authsvc.domain.units import UnitChanges
from authsvc.domain.users import UserChanges
from authsvc.model.permissions import SYSTEM
from authsvc.model.roles import Role
from authsvc.model.units import MemberKind
from authsvc.services import Services
from authsvc.settings import Settings
from authsvc.store import Store
from tests.harness import TEST_SECRET_KEY
from tests.store.counting import CountingRedis


@pytest.fixture
async def services(redis_url: str) -> AsyncIterator[Services]:
    store = Store(CountingRedis.from_url(redis_url))
    await store.start()
    settings = Settings.from_env({"AUTHSVC_REDIS_URL": redis_url})
    yield Services.build(settings, store, SecretBox.from_passphrase(TEST_SECRET_KEY),
                         FakeClock())
    await store.close()


async def test_a_restricted_user_page_costs_the_same_round_trips_for_10_or_300_users(
        services: Services) -> None:
    admin = services.admin
    inside = await admin.groups.create(SYSTEM, GroupChanges(name="Inside"))
    other = await admin.groups.create(SYSTEM, GroupChanges(name="Other"))
    for n in range(400):
        user = await services.users.add(UserChanges(username=f"user{n}"))
        group = inside if n % 4 else other
        await admin.groups.add_member(SYSTEM, user.user_id, group.group_id)
    ada, _, _ = await admin.admins.create(SYSTEM, "ada@example.org", "Ada", Role.USER_MANAGER,
                                          mail=False)
    await admin.units.create(SYSTEM, UnitChanges(
        name="Inside", restrict_by_groups=True,
        members={MemberKind.ADMIN: [ada.admin_id], MemberKind.GROUP: [inside.group_id]}))
    actor = await admin.units.actor_for(ada)
    await admin.users.page(actor, 0, 1)  # warm: the per-process caches
    costs = {}
    for size in (10, 300):
        CountingRedis.round_trips = 0
        page, total = await admin.users.page(actor, 0, size)
        costs[size] = CountingRedis.round_trips
        assert (len(page), total) == (size, 300)
    assert costs[10] == costs[300] == 4, costs
