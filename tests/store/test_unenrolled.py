"""The "Not enrolled" lockout sweep and unenrolled_lock.lua against real Redis."""

from __future__ import annotations

import asyncio

from authsvc.clock import FakeClock
from authsvc.domain.unenrolled import DAY_S, UnenrolledLockout
from authsvc.domain.users import UserChanges, UserDirectory
from authsvc.model.settings import validate_update
from authsvc.store import Store
from tests.store.conftest import StoreFactory, add_token, user_fields


async def _threshold(store: Store, days: int) -> None:
    await store.account.update(validate_update({"unenrolled_user_lockout_threshold": str(days)}))


async def _status(store: Store, user_id: str) -> tuple[str, str]:
    fields = await user_fields(store, user_id)
    return fields["status"], fields.get("lockout_reason", "")


async def test_a_sweep_locks_out_exactly_the_users_past_the_deadline_without_a_device(
        store: Store, clock: FakeClock) -> None:
    users, sweep = UserDirectory(store, clock), UnenrolledLockout(store, clock)
    await _threshold(store, 2)
    bare = await users.add(UserChanges(username="bare"))
    with_token = await users.add(UserChanges(username="token"))
    await add_token(store, "DHT1", with_token.user_id)
    with_phone = await users.add(UserChanges(username="phone"))
    await store.redis.execute("ZADD", store.keys.user_phones(with_phone.user_id), 1, "DPX")
    disabled = await users.add(UserChanges(username="off", status="disabled"))
    clock.advance(DAY_S)
    young = await users.add(UserChanges(username="young"))
    clock.advance(1.5 * DAY_S)

    assert await sweep.sweep() == 1
    assert await _status(store, bare.user_id) == ("locked out", "Not enrolled")
    for kept in (with_token, with_phone, young):
        assert await _status(store, kept.user_id) == ("active", "")
    assert await _status(store, disabled.user_id) == ("disabled", "")

    clock.advance(DAY_S)  # now the young user is past the deadline too
    assert await sweep.sweep() == 1
    assert await _status(store, young.user_id) == ("locked out", "Not enrolled")
    assert await sweep.sweep() == 0


async def test_a_sweep_looks_only_at_users_who_crossed_the_deadline_since_the_last(
        store: Store, clock: FakeClock) -> None:
    users, sweep = UserDirectory(store, clock), UnenrolledLockout(store, clock)
    await _threshold(store, 1)
    checked = await users.add(UserChanges(username="checked"))
    await add_token(store, "DHT2", checked.user_id)
    clock.advance(2 * DAY_S)
    assert await sweep.sweep() == 0
    # The user loses the token after the sweep went past them: the next preauth catches them
    # (lock_if_due), the sweep does not look back.
    await store.redis.execute("HDEL", store.keys.user(checked.user_id), "t:DHT2")
    assert await sweep.sweep() == 0
    assert await _status(store, checked.user_id) == ("active", "")
    assert await sweep.lock_if_due(checked.user_id, await store.account.get())
    assert await _status(store, checked.user_id) == ("locked out", "Not enrolled")


async def test_at_zero_days_the_rule_is_off(store: Store, clock: FakeClock) -> None:
    user = await UserDirectory(store, clock).add(UserChanges(username="idle"))
    clock.advance(365 * DAY_S)
    lockout = UnenrolledLockout(store, clock)
    assert await lockout.sweep() == 0
    assert not await lockout.lock_if_due(user.user_id, await store.account.get())
    assert await _status(store, user.user_id) == ("active", "")


async def test_processes_sweeping_at_once_lock_each_user_once(
        store: Store, clock: FakeClock, separate_stores: StoreFactory) -> None:
    users = UserDirectory(store, clock)
    await _threshold(store, 1)
    created = [await users.add(UserChanges(username=f"u{n}")) for n in range(30)]
    clock.advance(2 * DAY_S)
    sweeps = [UnenrolledLockout(other, clock) for other in await separate_stores(8)]
    locked = await asyncio.gather(*(sweep.sweep() for sweep in sweeps))
    assert sum(locked) == len(created)
    assert sorted(locked)[:-1] == [0] * 7  # one process swept; the others found it claimed
    for user in created:
        assert await _status(store, user.user_id) == ("locked out", "Not enrolled")
