"""The Trash sweep against real Redis on a fake clock: users older than the Trash duration are
deleted for good, inactive users are sent to the Trash, one process sweeps at a time, and a
restore or a login racing the sweep wins or loses cleanly."""

from __future__ import annotations

import asyncio

from authsvc.clock import FakeClock
from authsvc.domain.audit import AdminLog
from authsvc.domain.trash import Trash
from authsvc.domain.trash_sweep import SweepReport, TrashSweep
from authsvc.model.authlog import LogQuery
from authsvc.model.users import UserStatus
from authsvc.store import Store
from tests.store.conftest import StoreFactory, add_token, add_user, hotp_match, lockout_settings

DAY_S = 86_400


def sweeper(store: Store, clock: FakeClock) -> TrashSweep:
    return TrashSweep(store, clock, Trash(store, clock), AdminLog(store, clock))


async def test_users_are_deleted_for_good_after_the_trash_duration_and_not_before(
        store: Store, clock: FakeClock) -> None:
    await store.account.update({"pending_deletion_days": "3"})
    trash = Trash(store, clock)
    for user_id in ("U1", "U2", "U3"):
        await add_user(store, user_id)
    await trash.send("U1")
    clock.advance(DAY_S)
    await trash.send("U2")

    clock.advance(2 * DAY_S - 1)
    assert (await sweeper(store, clock).sweep()).purged == 0
    clock.advance(1)
    report = await sweeper(store, clock).sweep()

    assert report.purged == 1
    assert await store.users.get("U1") is None
    user = await store.users.get("U2")
    assert user is not None and user.in_trash
    clock.advance(DAY_S)
    assert (await sweeper(store, clock).sweep()).purged == 1
    assert await store.users.get("U3") is not None
    page = await store.adminlog.query(LogQuery(mintime=0, maxtime=2**62, limit=10,
                                               ascending=True))
    assert [(r["action"], r["object"], r["username"]) for r in page.records] == [
        ("user_delete_permanent", "u1", "authsvc"), ("user_delete_permanent", "u2", "authsvc")]


async def test_inactive_users_are_sent_to_the_trash_and_then_deleted(
        store: Store, clock: FakeClock) -> None:
    await store.account.update({"inactive_user_expiration": "10", "pending_deletion_days": "1"})
    await add_user(store, "U-idle")
    await add_user(store, "U-busy")
    await add_token(store, "T1", "U-busy")
    clock.advance(9 * DAY_S)
    await store.attempts.decide("U-busy", now_ms=clock.now_ms(), settings=lockout_settings(),
                                matches=[hotp_match("T1", 0)])
    clock.advance(DAY_S)

    assert (await sweeper(store, clock).sweep()).expired == 1

    idle = await store.users.get("U-idle")
    assert idle is not None and (idle.status, idle.trash_reason) == (
        UserStatus.PENDING_DELETION, "inactive")
    clock.advance(DAY_S)
    assert await sweeper(store, clock).sweep() == SweepReport(expired=0, purged=1)
    assert await store.users.get("U-idle") is None
    busy = await store.users.get("U-busy")
    assert busy is not None and not busy.in_trash
    clock.advance(9 * DAY_S)
    assert (await sweeper(store, clock).sweep()).expired == 1  # ten days since its login


async def test_inactive_user_expiration_off_sends_nobody(store: Store, clock: FakeClock) -> None:
    await add_user(store, "U1")
    clock.advance(400 * DAY_S)

    assert await sweeper(store, clock).sweep() == SweepReport()


async def test_race_a_login_racing_the_expiration_keeps_the_user(
        store: Store, clock: FakeClock) -> None:
    """user_trash.lua re-checks the last activity: a login that lands first wins."""
    await add_user(store, "U1")
    await add_token(store, "T1", "U1")
    clock.advance(20 * DAY_S)
    await store.attempts.decide("U1", now_ms=clock.now_ms(), settings=lockout_settings(),
                                matches=[hotp_match("T1", 0)])

    outcome = await store.trash.send("U1", now_ms=clock.now_ms(), why="inactive",
                                     inactive_by_s=int(clock.now()) - 10 * DAY_S)

    assert outcome.name == "NOT_DUE"
    user = await store.users.get("U1")
    assert user is not None and not user.in_trash


async def test_race_restore_and_sweep_either_restores_or_deletes_never_half(
        store: Store, clock: FakeClock, separate_stores: StoreFactory) -> None:
    await store.account.update({"pending_deletion_days": "1"})
    for round_ in range(15):
        user_id = f"U{round_}"
        await add_user(store, user_id)
        await add_token(store, f"T{round_}", user_id)
        await Trash(store, clock).send(user_id)
        clock.advance(DAY_S)
        first, second = await separate_stores(2)

        await asyncio.gather(sweeper(first, clock).sweep(), first.trash.restore(user_id),
                             second.trash.restore(user_id))

        user = await store.users.get(user_id)
        token = await store.tokens.get(f"T{round_}")
        assert token is not None
        if user is None:
            assert token.holders == ()
        else:
            assert user.status is UserStatus.DISABLED and token.holders == (user_id,)


async def test_processes_sweeping_at_once_delete_each_user_once(
        store: Store, clock: FakeClock, separate_stores: StoreFactory) -> None:
    await store.account.update({"pending_deletion_days": "1"})
    for number in range(20):
        await add_user(store, f"U{number}")
        await Trash(store, clock).send(f"U{number}")
    clock.advance(DAY_S)
    sweeps = [sweeper(other, clock) for other in await separate_stores(6)]

    reports = await asyncio.gather(*(sweep.sweep() for sweep in sweeps))

    assert sum(report.purged for report in reports) == 20
    assert sum(1 for report in reports if report.purged) == 1  # the lock: one process swept
    assert (await store.counts.totals(inactive_by_s=0, locked_after_ms=None)).trash == 0
