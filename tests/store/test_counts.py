"""The user counters against real Redis: the sharded counters equal a full scan after every mix of
operations, racing ones included; slots and tags as Redis Cluster computes them; the rebuild of a
store that predates the counters; a counted transaction after SCRIPT FLUSH."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import random

import pytest

from authsvc.clock import FakeClock
from authsvc.domain.counts import UserCounter
from authsvc.domain.trash import Trash
from authsvc.domain.unenrolled import UnenrolledLockout
from authsvc.errors import Conflict
from authsvc.model.attempts import AttemptStatus
from authsvc.model.security_keys import KeyKind, SecurityKey
from authsvc.model.users import INACTIVE_DAYS, UserCounts, UserStatus
from authsvc.store import Store
from authsvc.store.core import StoreContext
from authsvc.store.listing import Listing
from authsvc.store.slots import key_slot, slot_tags, tag_slot
from tests.store.conftest import (
    StoreFactory,
    add_token,
    add_user,
    hotp_match,
    lockout_settings,
)

DAY_S = 86_400


async def scanned_counts(store: Store, now_s: int, lock_expire_ms: int = 0) -> UserCounts:
    """What the counters must say, computed the slow way: read every user and its devices."""
    keys, counts = store.keys, dict.fromkeys(
        ("total", "active", "bypass", "disabled", "locked_out", "not_enrolled", "inactive",
         "trash"), 0)
    for user_id in (await store.users.page_ids(0, 1_000_000))[0]:
        user = await store.users.get(user_id)
        if user is None:
            continue
        if user.in_trash:
            counts["trash"] += 1
            continue
        devices = [*await store.redis.pipeline([
            ("ZCARD", keys.user_phones(user_id)), ("HLEN", keys.user_security_keys(user_id))]),
            len(await store.tokens.of_user(user_id))]
        counts["total"] += 1
        counts["not_enrolled"] += not sum(devices)
        if user.status is UserStatus.LOCKED_OUT:
            in_force = not lock_expire_ms or user.locked_at > now_s * 1000 - lock_expire_ms
            counts["locked_out"] += in_force
        else:
            counts[user.status.value] += 1
        seen = max(user.created, user.last_login or 0)
        counts["inactive"] += seen <= now_s - INACTIVE_DAYS * DAY_S
    return UserCounts(**counts)


async def counted(store: Store, clock: FakeClock) -> UserCounts:
    return await UserCounter(store, clock).counts()


def security_key(number: int) -> SecurityKey:
    return SecurityKey(credential_id=f"cred-{number}", key=f"WK{number}", kind=KeyKind.WEBAUTHN,
                       name="key", public_key="pk", created=1_800_000_000)


def test_slots_and_tags_are_the_ones_redis_cluster_computes() -> None:
    # CLUSTER KEYSLOT's documented answers.
    assert (key_slot("somekey"), key_slot("foo{hash_tag}"), key_slot("foo")) == (11058, 2515,
                                                                               12182)
    tags = slot_tags()
    assert len(set(tags)) == len(tags) == 16384
    assert all(tag_slot(tag) == slot for slot, tag in enumerate(tags))


def test_a_users_counter_shard_is_in_the_users_slot(store: Store) -> None:
    keys = store.keys
    for user_id in ("DU1", "DUABCDEF", "DUzzzz-9"):
        slots = {key_slot(key) for key in (keys.user(user_id), *keys.counting(user_id))}
        assert slots == {keys.user_slot(user_id)}


async def test_counts_follow_creation_status_devices_lockout_and_the_trash(
        store: Store, clock: FakeClock) -> None:
    for number in range(6):
        await add_user(store, f"U{number}")
    await store.users.set_status("U1", UserStatus.BYPASS)
    await store.users.set_status("U2", UserStatus.DISABLED)
    await add_token(store, "T1", "U3")
    await store.security_keys.add("U4", security_key(4))
    for _ in range(3):
        await store.attempts.decide("U5", now_ms=clock.now_ms(),
                                    settings=lockout_settings(threshold=3), matches=[])
    await store.trash.send("U0", now_ms=clock.now_ms(), why="admin")

    counts = await counted(store, clock)

    assert counts == UserCounts(total=5, active=2, bypass=1, disabled=1, locked_out=1,
                                not_enrolled=3, inactive=0, trash=1)
    assert counts == await scanned_counts(store, int(clock.now()))


async def test_a_restored_user_comes_back_disabled_and_a_purged_one_leaves_every_count(
        store: Store, clock: FakeClock) -> None:
    for number in range(3):
        await add_user(store, f"U{number}")
    await add_token(store, "T1", "U1")
    trash = Trash(store, clock)
    for user_id in ("U1", "U2"):
        await trash.send(user_id)

    view = await trash.restore("U1")
    user = await store.users.get("U2")
    assert user is not None and await trash.purge(user, trashed_by_ms=clock.now_ms())

    assert (view.user.status, [t.token_id for t in view.tokens]) == (UserStatus.DISABLED, ["T1"])
    assert await counted(store, clock) == UserCounts(total=2, active=1, disabled=1,
                                                     not_enrolled=1, trash=0)
    assert await counted(store, clock) == await scanned_counts(store, int(clock.now()))


async def test_inactive_counts_users_without_a_login_for_thirty_days(
        store: Store, clock: FakeClock) -> None:
    await add_user(store, "U1")  # created at 1_800_000_000 (conftest)
    await add_user(store, "U2")
    await add_token(store, "T1", "U2")
    clock.advance(29 * DAY_S)
    await store.attempts.decide("U2", now_ms=clock.now_ms(), settings=lockout_settings(),
                                matches=[hotp_match("T1", 0)])

    clock.advance(2 * DAY_S)

    assert (await counted(store, clock)).inactive == 1
    clock.advance(29 * DAY_S)
    assert (await counted(store, clock)).inactive == 2
    assert await counted(store, clock) == await scanned_counts(store, int(clock.now()))


async def test_an_expired_lockout_stops_counting_when_it_expires(
        store: Store, clock: FakeClock) -> None:
    await store.account.update({"lockout_expire_duration": "5"})
    await add_user(store, "U1")
    settings = lockout_settings(threshold=1, expire_minutes=5)
    outcome = await store.attempts.decide("U1", now_ms=clock.now_ms(), settings=settings,
                                          matches=[])
    assert outcome.status is AttemptStatus.LOCKED_NOW
    assert (await counted(store, clock)).locked_out == 1

    clock.advance(5 * 60)

    assert (await counted(store, clock)).locked_out == 0
    assert await counted(store, clock) == await scanned_counts(store, int(clock.now()), 300_000)


async def test_the_unenrolled_lockout_and_a_phone_are_counted(
        store: Store, clock: FakeClock) -> None:
    await store.account.update({"unenrolled_user_lockout_threshold": "1"})
    await add_user(store, "U1")
    await add_user(store, "U2")
    await store.phones.attach("U2", "DP1", None)
    clock.advance(2 * DAY_S)

    assert await UnenrolledLockout(store, clock).sweep() == 1

    assert await counted(store, clock) == UserCounts(total=2, active=1, locked_out=1,
                                                     not_enrolled=1)
    await store.phones.detach("U2", "DP1")
    assert (await counted(store, clock)).not_enrolled == 2


async def _random_operation(store: Store, clock: FakeClock, rng: random.Random,
                            users: list[str]) -> None:
    user_id, trash = rng.choice(users), Trash(store, clock)
    operation = rng.randrange(9)
    if operation == 0:
        with contextlib.suppress(Conflict):  # in the Trash
            await store.users.set_status(user_id, rng.choice(
                [UserStatus.ACTIVE, UserStatus.BYPASS, UserStatus.DISABLED]))
    elif operation == 1:
        await store.attempts.decide(user_id, now_ms=clock.now_ms(),
                                    settings=lockout_settings(threshold=2), matches=[])
    elif operation == 2:
        await trash.send(user_id)
    elif operation == 3:
        await store.trash.restore(user_id)
    elif operation == 4:
        await store.phones.attach(user_id, f"DP-{user_id}", None)
    elif operation == 5:
        await store.phones.detach(user_id, f"DP-{user_id}")
    elif operation == 6:
        await store.security_keys.add(user_id, security_key(rng.randrange(3)))
    elif operation == 7:
        await store.security_keys.delete(f"WK{rng.randrange(3)}", KeyKind.WEBAUTHN)
    else:
        user = await store.users.get(user_id)
        if user is not None and user.in_trash:
            await trash.purge(user, trashed_by_ms=clock.now_ms())


async def test_race_counts_stay_exact_after_thousands_of_racing_operations(
        store: Store, clock: FakeClock, separate_stores: StoreFactory) -> None:
    users = [f"U{number}" for number in range(12)]
    for user_id in users:
        await add_user(store, user_id)
    workers = await separate_stores(6)
    rngs = [random.Random(seed) for seed in range(len(workers))]

    async def work(worker: Store, rng: random.Random) -> None:
        for _ in range(250):
            await _random_operation(worker, clock, rng, users)

    await asyncio.gather(*(work(worker, rng) for worker, rng in zip(workers, rngs, strict=True)))

    counts = await counted(store, clock)
    assert counts == await scanned_counts(store, int(clock.now()))
    assert counts.total + counts.trash == len((await store.users.page_ids(0, 1_000_000))[0])


async def test_users_of_an_older_version_still_list_first_count_and_purge(
        store: Store, clock: FakeClock) -> None:
    for user_id in ("U0", "U1"):
        await add_user(store, user_id)
    # As an older version wrote them: the id repeated in the record, the users listed in one
    # sorted set (the buckets' hash tag), no place.
    listing = Listing(StoreContext(store.redis, store.keys, store.scripts),
                      store.keys.users_listing())
    for score, user_id in enumerate(("U0", "U1")):
        key = store.keys.user(user_id)
        assert await listing.remove(user_id, int(await store.redis.execute("HGET", key, "listed")))
        await store.redis.pipeline([("HDEL", key, "listed"), ("HSET", key, "user_id", user_id),
                                    ("ZADD", store.keys.users(), 1_000 + score, user_id)])
    for user_id in ("U2", "U3"):
        await add_user(store, user_id)
    assert await store.redis.execute("HGET", store.keys.user("U2"), "user_id") is None

    assert await store.users.page_ids(0, 10) == (["U0", "U1", "U2", "U3"], 4)
    await store.users.set_status("U0", UserStatus.DISABLED)
    assert (await store.users.get("U0") or pytest.fail()).status is UserStatus.DISABLED
    trash, user = Trash(store, clock), await store.users.get("U0")
    await trash.send("U0")
    assert user is not None and await trash.purge(user, trashed_by_ms=clock.now_ms())

    assert await store.users.page_ids(0, 10) == (["U1", "U2", "U3"], 3)
    assert await store.redis.execute("ZCARD", store.keys.users()) == 1
    assert await counted(store, clock) == UserCounts(total=3, active=3, not_enrolled=3)
    assert await counted(store, clock) == await scanned_counts(store, int(clock.now()))


async def test_a_store_from_before_the_counters_is_counted_once_by_the_rebuild(
        store: Store, clock: FakeClock) -> None:
    for number in range(5):
        await add_user(store, f"U{number}")
    await store.users.set_status("U1", UserStatus.BYPASS)
    # As an older version left them: no counters, no `counted` place on the users.
    for slot in await store.counts.slots():
        await store.redis.execute("DEL", store.keys.shard_counts(slot),
                                  store.keys.shard_activity(slot))
    for number in range(5):
        await store.redis.execute("HDEL", store.keys.user(f"U{number}"), "counted")
    for key in (store.keys.count_slots(), store.keys.counts_ready()):
        await store.redis.execute("DEL", key)
    assert await counted(store, clock) == UserCounts()

    assert not await store.counts.ready()
    assert await store.counts.rebuild() == 5
    assert await store.counts.rebuild() == 5  # again: nothing counted twice

    assert await store.counts.ready()
    assert await counted(store, clock) == await scanned_counts(store, int(clock.now()))
    assert (await counted(store, clock)).bypass == 1


async def test_a_device_change_is_counted_even_after_script_flush(
        store: Store, clock: FakeClock) -> None:
    await add_user(store, "U1")
    await store.redis.execute("SCRIPT", "FLUSH")

    await store.phones.attach("U1", "DP1", None)

    assert (await counted(store, clock)).not_enrolled == 0
    assert await counted(store, clock) == await scanned_counts(store, int(clock.now()))


@pytest.mark.parametrize("status", [UserStatus.ACTIVE, UserStatus.BYPASS])
async def test_a_bypass_login_is_the_users_last_activity(
        store: Store, clock: FakeClock, status: UserStatus) -> None:
    await add_user(store, "U1", status=status)
    clock.advance(40 * DAY_S)

    recorded = await store.counts.seen("U1", clock.now_ms())

    assert recorded is (status is UserStatus.BYPASS)
    user = await store.users.get("U1")
    assert user is not None
    assert (user.last_login is not None) is recorded
    assert (await counted(store, clock)).inactive == (0 if recorded else 1)


async def test_a_user_created_with_an_id_in_use_is_refused(store: Store) -> None:
    user = await add_user(store, "U1", "first")

    with pytest.raises(Conflict, match="user_id"):
        await store.users.create(dataclasses.replace(user, username="second"), order_ms=1)


async def test_the_registered_slots_read_back_exactly_from_the_bitmap(store: Store) -> None:
    # Bits that make bytes such as 0xC3 0xA9 (valid UTF-8: the client decodes them) included.
    wanted = {0, 1, 7, 8, 15, 16, 17, 18, 19, 20, 21, 22, 23, 8_000, 16_383} | set(range(24, 40))
    for slot in wanted:
        await store.redis.execute("SETBIT", store.keys.count_slots(), slot, 1)
    await store.redis.execute("SADD", store.keys.count_slots_set(), 5_000)  # an older store's
    assert await store.counts.slots() == sorted(wanted | {5_000})
