"""Groups at the decision scripts, against a real Redis: the status a user's groups impose is
enforced inside passcode_attempt.lua and push_create.lua, and a decision computed from
memberships or group records that changed before it committed is refused as stale with nothing
changed (store/groups.py has the race analysis)."""

from __future__ import annotations

import dataclasses

from authsvc.clock import FakeClock
from authsvc.domain.subjects import standing_of
from authsvc.model.attempts import AttemptStatus
from authsvc.model.groups import NO_GROUPS, GateArgs, Group, GroupStanding, GroupStatus
from authsvc.model.pushes import CreateStatus, Push, PushLimits
from authsvc.model.users import UserStatus
from authsvc.store import Store
from tests.store.conftest import (
    add_user,
    bypass_code,
    bypass_match,
    bypass_records,
    lockout_settings,
    user_fields,
)

SETTINGS = lockout_settings(threshold=3)
LIMITS = PushLimits(lockout_expire_ms=0, max_outstanding=3, cooldown_after=0, cooldown_ms=0)


async def new_group(store: Store, group_id: str, status: GroupStatus = GroupStatus.ACTIVE
                    ) -> Group:
    group = Group(group_id=group_id, name=group_id.lower(), status=status)
    await store.groups.create(group, order_ms=1_800_000_000_000)
    return group


async def standing(store: Store, user_id: str) -> GroupStanding:
    """What a decision for the user reads in its first round trip."""
    loaded = await store.attempts.load(user_id)
    assert loaded is not None
    return await standing_of(store, loaded)


async def with_code(store: Store, user_id: str, status: UserStatus = UserStatus.ACTIVE) -> None:
    await add_user(store, user_id, status=status)
    await store.bypass.add(user_id, [bypass_code("H1", user_id, uses=0)], preserve=False,
                           now_ms=0, limit=100)


async def decide(store: Store, user_id: str, clock: FakeClock, gate: GateArgs
                 ) -> AttemptStatus:
    outcome = await store.attempts.decide(user_id, now_ms=clock.now_ms(), settings=SETTINGS,
                                          matches=[bypass_match("H1")], gate=gate)
    return outcome.status


async def test_the_imposed_status_decides_inside_the_script(store: Store,
                                                             clock: FakeClock) -> None:
    await with_code(store, "U1", UserStatus.BYPASS)
    assert await decide(store, "U1", clock, GateArgs("disabled", "")) is AttemptStatus.DISABLED
    await with_code(store, "U2", UserStatus.LOCKED_OUT)
    assert await decide(store, "U2", clock, GateArgs("bypass", "")) is \
        AttemptStatus.BYPASS_USER
    await with_code(store, "U3", UserStatus.DISABLED)
    assert await decide(store, "U3", clock, NO_GROUPS) is AttemptStatus.DISABLED
    assert await decide(store, "U3", clock, GateArgs("bypass", "")) is \
        AttemptStatus.BYPASS_USER


async def test_a_membership_change_after_the_read_makes_the_decision_stale_and_changes_nothing(
        store: Store, clock: FakeClock) -> None:
    await with_code(store, "U1")
    group = await new_group(store, "DG1", GroupStatus.DISABLED)
    read = await standing(store, "U1")
    assert read.gate == GateArgs("", "0")
    before = await user_fields(store, "U1")
    assert await store.groups.add_member(group.group_id, "U1", now_ms=1) == ""
    assert await decide(store, "U1", clock, read.gate) is AttemptStatus.STALE
    after = await user_fields(store, "U1")
    assert {k: v for k, v in after.items() if k != "groups_v"} == before
    assert (await bypass_records(store, "U1"))["H1"]["uses"] == 0
    again = await standing(store, "U1")
    assert again.gate == GateArgs("disabled", "1")
    assert await decide(store, "U1", clock, again.gate) is AttemptStatus.DISABLED


async def test_a_group_status_change_after_the_read_makes_members_decisions_stale(
        store: Store, clock: FakeClock) -> None:
    for user_id in ("U1", "U2"):
        await with_code(store, user_id)
    group = await new_group(store, "DG1")
    for user_id in ("U1", "U2"):
        await store.groups.add_member(group.group_id, user_id, now_ms=1)
    reads = {user_id: await standing(store, user_id) for user_id in ("U1", "U2")}
    assert reads["U1"].gate == GateArgs("", "1")
    changed = dataclasses.replace(group, status=GroupStatus.DISABLED)
    assert await store.groups.update(group, changed)
    for user_id in ("U1", "U2"):
        assert await decide(store, user_id, clock, reads[user_id].gate) is AttemptStatus.STALE
        assert (await standing(store, user_id)).gate == GateArgs("disabled", "2")
    renamed = dataclasses.replace(changed, name="still disabled", desc="x")
    assert await store.groups.update(changed, renamed)  # decides nothing new: no fan-out
    assert (await standing(store, "U1")).gate == GateArgs("disabled", "2")


async def test_push_create_applies_the_same_gate(store: Store, clock: FakeClock) -> None:
    await add_user(store, "U1")
    group = await new_group(store, "DG1", GroupStatus.BYPASS)
    read = await standing(store, "U1")
    await store.groups.add_member(group.group_id, "U1", now_ms=1)
    push = Push(txid="T1", user_id="U1", expires_ms=clock.now_ms() + 60_000)
    status, _ = await store.pushes.create(push, now_ms=clock.now_ms(), limits=LIMITS,
                                          prepared=False, gate=read.gate)
    assert status is CreateStatus.STALE
    assert await store.redis.execute("EXISTS", store.keys.push("U1", "T1")) == 0
    status, _ = await store.pushes.create(push, now_ms=clock.now_ms(), limits=LIMITS,
                                          prepared=False, gate=(await standing(store, "U1")).gate)
    assert status is CreateStatus.BYPASS_USER


async def test_memberships_never_resurrect_a_deleted_user_or_fill_a_deleted_group(
        store: Store) -> None:
    user = await add_user(store, "U1")
    group = await new_group(store, "DG1")
    await store.groups.add_member(group.group_id, "U1", now_ms=1)
    _, purged = await store.trash.purge("U1", trashed_by_ms=None)
    assert purged is not None and purged.group_ids == [group.group_id]
    await store.trash.forget_names_and_indexes(user, purged)
    assert await store.groups.members_page(group.group_id, 0, 10) == ([], 0)
    assert await store.redis.execute("EXISTS", store.keys.user_groups("U1")) == 0
    assert await store.redis.execute("EXISTS", store.keys.user("U1")) == 0
    assert await store.groups.add_member(group.group_id, "U1", now_ms=2) == "user_id"
    assert await store.groups.members_page(group.group_id, 0, 10) == ([], 0)
    await add_user(store, "U2")
    await store.groups.delete(group.group_id)
    assert await store.groups.add_member(group.group_id, "U2", now_ms=3) == "group_id"
    assert await store.groups.of_user("U2") == []


async def test_deleting_a_group_takes_every_member_out_first(store: Store,
                                                             clock: FakeClock) -> None:
    await with_code(store, "U1")
    group = await new_group(store, "DG1", GroupStatus.DISABLED)
    await store.groups.add_member(group.group_id, "U1", now_ms=1)
    read = await standing(store, "U1")
    assert read.gate == GateArgs("disabled", "1")
    await store.groups.delete(group.group_id)
    assert await decide(store, "U1", clock, read.gate) is AttemptStatus.STALE
    assert (await standing(store, "U1")).gate == GateArgs("", "2")
    assert await decide(store, "U1", clock, GateArgs("", "2")) is AttemptStatus.ALLOW


async def test_group_records_are_read_again_only_when_the_version_moved(store: Store) -> None:
    await add_user(store, "U1")
    group = await new_group(store, "DG1")
    await store.groups.add_member(group.group_id, "U1", now_ms=1)
    assert (await standing(store, "U1")).groups[0].status is GroupStatus.ACTIVE
    await store.redis.execute("HSET", store.keys.group("DG1"), "status", "disabled")
    cached = await standing(store, "U1")  # changed behind the store's back: version unmoved
    assert cached.groups[0].status is GroupStatus.ACTIVE
    await store.redis.execute("HINCRBY", store.keys.account_settings(), "_groups_version", 1)
    assert (await standing(store, "U1")).groups[0].status is GroupStatus.DISABLED
