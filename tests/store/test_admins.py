"""Administrators against a real Redis: setup links, Argon2id passwords, sign-in lockout, and
the rule that the account never loses its last Owner, even when changes race."""

from __future__ import annotations

import asyncio

import pytest

from authsvc.clock import FakeClock
from authsvc.domain.admins import AdminAccounts
from authsvc.domain.links import Links
from authsvc.errors import Conflict, InvalidParameter, NotFound
from authsvc.model.admins import AdminStatus
from authsvc.model.roles import Role
from authsvc.model.settings import AccountSettings
from authsvc.store import Store
from tests.store.conftest import StoreFactory

SETTINGS = AccountSettings.from_stored({"admin_lockout_threshold": "3"})
PASSWORD = "correct horse battery staple"


def _accounts(store: Store, clock: FakeClock) -> AdminAccounts:
    return AdminAccounts(store, clock, Links("https://auth.example.test"))


def _token(link: str) -> str:
    return link.rsplit("/", 1)[1]


async def test_a_setup_link_sets_an_argon2_password_once_and_activates_the_admin(
        store: Store, clock: FakeClock) -> None:
    accounts = _accounts(store, clock)
    admin, link, _ = await accounts.create("olive@example.org", "Olive", Role.OWNER)
    assert admin.status is AdminStatus.PENDING
    assert link.startswith("https://auth.example.test/admin/setup/")
    with pytest.raises(InvalidParameter, match="at least 12 characters"):
        await accounts.complete_setup(_token(link), "short", SETTINGS)
    done = await accounts.complete_setup(_token(link), PASSWORD, SETTINGS)
    assert done.status is AdminStatus.ACTIVE and done.has_password
    with pytest.raises(NotFound):
        await accounts.complete_setup(_token(link), PASSWORD, SETTINGS)
    stored = await store.redis.execute("HGET", store.keys.admin(admin.admin_id), "password")
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert (await accounts.verify_password("OLIVE@example.org", PASSWORD, SETTINGS)) is not None


async def test_wrong_passwords_lock_the_admin_out_at_the_threshold_until_a_reset(
        store: Store, clock: FakeClock) -> None:
    accounts = _accounts(store, clock)
    admin, link, _ = await accounts.create("hal@example.org", "Hal", Role.HELP_DESK)
    await accounts.complete_setup(_token(link), PASSWORD, SETTINGS)
    for _ in range(3):
        assert await accounts.verify_password("hal@example.org", "wrong " * 3, SETTINGS) is None
    assert (await accounts.get(admin.admin_id)).status is AdminStatus.LOCKED
    assert await accounts.verify_password("hal@example.org", PASSWORD, SETTINGS) is None
    await accounts.reset(admin.admin_id)
    assert await accounts.verify_password("hal@example.org", PASSWORD, SETTINGS) is not None
    assert await accounts.verify_password("nobody@example.org", PASSWORD, SETTINGS) is None


async def test_the_last_owner_can_be_neither_demoted_disabled_nor_deleted(
        store: Store, clock: FakeClock) -> None:
    accounts = _accounts(store, clock)
    owner, _, _ = await accounts.create("olive@example.org", "Olive", Role.OWNER)
    for attempt in (accounts.update(owner.admin_id, role=Role.BILLING),
                    accounts.update(owner.admin_id, status=AdminStatus.DISABLED),
                    accounts.delete(owner.admin_id)):
        with pytest.raises(Conflict, match="at least one Owner"):
            await attempt
    assert (await accounts.get(owner.admin_id)).role is Role.OWNER
    second, _, _ = await accounts.create("oscar@example.org", "Oscar", Role.OWNER)
    await accounts.update(owner.admin_id, role=Role.BILLING)
    with pytest.raises(Conflict):
        await accounts.delete(second.admin_id)


async def test_two_owners_demoting_each_other_at_once_leave_exactly_one_owner(
        separate_stores: StoreFactory, clock: FakeClock) -> None:
    first, second = await separate_stores(2)
    accounts = [_accounts(first, clock), _accounts(second, clock)]
    ids = [(await accounts[0].create(f"o{n}@example.org", f"O{n}", Role.OWNER))[0].admin_id
           for n in range(2)]
    outcomes = await asyncio.gather(
        accounts[0].update(ids[0], role=Role.READ_ONLY),
        accounts[1].update(ids[1], role=Role.READ_ONLY), return_exceptions=True)
    assert sum(isinstance(outcome, Conflict) for outcome in outcomes) == 1
    roles = [(await accounts[0].get(admin_id)).role for admin_id in ids]
    assert roles.count(Role.OWNER) == 1


async def test_an_email_is_one_administrator(store: Store, clock: FakeClock) -> None:
    accounts = _accounts(store, clock)
    await accounts.create("olive@example.org", "Olive", Role.OWNER)
    with pytest.raises(Conflict):
        await accounts.create("Olive@Example.org", "Other", Role.READ_ONLY)
