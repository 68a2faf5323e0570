"""Abandoned inline enrollments leave nothing behind: a Duo Mobile phone a prompt session began
(`PhoneDirectory.begun_for_enrollment`) and nobody holds once the session is over is deleted by
the Trash sweep, on a fake clock against real Redis; one an administrator gave to someone is
kept, and a deleted one leaves the list."""

from __future__ import annotations

from authsvc.clock import FakeClock
from authsvc.domain.audit import AdminLog
from authsvc.domain.prompt_devices import sweep_unfinished
from authsvc.domain.trash import Trash
from authsvc.domain.trash_sweep import TrashSweep
from authsvc.model.phones import Phone, PhoneType
from authsvc.store import Store
from tests.store.conftest import add_user

SESSION_MS = 960_000


async def _begun(store: Store, clock: FakeClock, phone_id: str) -> None:
    await store.phones.create(Phone(phone_id=phone_id, created=int(clock.now()),
                                    type=PhoneType.MOBILE, platform="apple ios",
                                    name="Duo Mobile"), order_ms=clock.now_ms())
    await store.phones.mark_unfinished(phone_id, clock.now_ms() + SESSION_MS)


async def _unfinished(store: Store) -> list[str]:
    listed: list[str] = await store.redis.execute("ZRANGE", store.keys.unfinished_phones(), 0, -1)
    return listed


async def test_a_phone_nobody_finished_is_deleted_once_its_session_is_over(
        store: Store, clock: FakeClock) -> None:
    await _begun(store, clock, "DPLEFT")
    sweep = TrashSweep(store, clock, Trash(store, clock), AdminLog(store, clock))
    clock.advance(SESSION_MS / 1000 - 1)
    assert (await sweep.sweep()).phones == 0
    assert await store.phones.get("DPLEFT") is not None

    clock.advance(1)
    assert (await sweep.sweep()).phones == 1
    assert await store.phones.get("DPLEFT") is None
    assert (await store.phones.page(0, 10))[1] == 0
    assert await _unfinished(store) == []


async def test_a_phone_someone_holds_is_kept_and_forgotten(store: Store, clock: FakeClock) -> None:
    await add_user(store, "U1")
    await _begun(store, clock, "DPGIVEN")
    await store.phones.attach("U1", "DPGIVEN", None)  # an administrator gave it away
    clock.advance(SESSION_MS / 1000)
    assert await sweep_unfinished(store, clock.now_ms()) == 0
    assert await store.phones.get("DPGIVEN") is not None
    assert await store.phones.of_user("U1") == ["DPGIVEN"]
    assert await _unfinished(store) == []


async def test_a_phone_deleted_meanwhile_leaves_the_list(store: Store, clock: FakeClock) -> None:
    await _begun(store, clock, "DPGONE")
    await _begun(store, clock, "DPSTAYS")
    phone = await store.phones.get("DPGONE")
    assert phone is not None
    await store.phones.delete(phone)
    assert await _unfinished(store) == ["DPSTAYS"]
    await store.phones.unmark_unfinished("DPSTAYS")  # attached at activation
    clock.advance(SESSION_MS / 1000)
    assert await sweep_unfinished(store, clock.now_ms()) == 0
    assert await store.phones.get("DPSTAYS") is not None


async def test_a_sweep_takes_at_most_its_limit_oldest_first(store: Store,
                                                           clock: FakeClock) -> None:
    for n in range(5):
        await _begun(store, clock, f"DP{n}")
        clock.advance(1)
    clock.advance(SESSION_MS / 1000)
    assert await sweep_unfinished(store, clock.now_ms(), limit=3) == 3
    assert [p.phone_id for p in (await store.phones.page(0, 10))[0]] == ["DP3", "DP4"]
    assert await sweep_unfinished(store, clock.now_ms(), limit=3) == 2
