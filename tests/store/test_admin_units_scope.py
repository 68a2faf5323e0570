"""Administrative Units enforced in the domain, against a real Redis: an administrator's actor
built by `UnitAdmin.actor_for` (what the Admin Panel's sign-in calls) sees only the users,
devices, groups and applications of their units, with the right totals; every facade that
reads or changes one user refuses a user outside with 404 and changes nothing (every key but
the administrator log read before and after); unrestricted actors are unaffected."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from authsvc.clock import FakeClock
from authsvc.crypto import SecretBox
from authsvc.domain.admin.users import UserLookup
from authsvc.domain.bypass import BypassRequest
from authsvc.domain.groups import GroupChanges
from authsvc.domain.integration_changes import IntegrationChanges
from authsvc.domain.phones import PhoneChanges
from authsvc.domain.tokens import NewToken
from authsvc.domain.units import UnitChanges
from authsvc.domain.users import UserChanges
from authsvc.errors import Forbidden, InvalidParameter, NotFound
from authsvc.http.render import user_json
from authsvc.model.authlog import AttemptFacts, LogQuery
from authsvc.model.factors import LogFactor
from authsvc.model.integrations import Integration
from authsvc.model.permissions import SYSTEM, UNRESTRICTED, Actor, Scope
from authsvc.model.roles import Role
from authsvc.model.units import MemberKind
from authsvc.model.verdicts import Result, Verdict
from authsvc.services import Services
from authsvc.settings import Settings
from authsvc.store import Redis, Store

SEED = bytes(range(20)).hex()


@pytest.fixture
async def services(redis_url: str, box: SecretBox, tmp_path: Path
                   ) -> AsyncIterator[Services]:
    store = Store(Redis.from_url(redis_url))
    await store.start()
    yield Services.build(Settings(data_dir=tmp_path), store, box, FakeClock(1_800_000_000))
    await store.close()


@dataclass
class World:
    """Two groups, users in and out of North, devices held inside, outside and across."""

    ids: dict[str, str]
    restricted: Actor
    apps: dict[str, Integration]


async def _user(services: Services, name: str, *groups: str) -> str:
    user = await services.admin.users.add(SYSTEM, UserChanges(username=name))
    for group_id in groups:
        await services.admin.groups.add_member(SYSTEM, user.user_id, group_id)
    return user.user_id


async def _phone(services: Services, number: str, *holders: str) -> str:
    phone = await services.admin.devices.add_phone(SYSTEM, PhoneChanges(number=number))
    for user_id in holders:
        await services.admin.devices.attach_phone(SYSTEM, user_id, phone.phone_id)
    return phone.phone_id


async def _token(services: Services, serial: str, *holders: str) -> str:
    token = await services.admin.devices.add_token(SYSTEM, NewToken("h6", serial, SEED))
    for user_id in holders:
        await services.admin.devices.assign_token(SYSTEM, user_id, token.token_id)
    return token.token_id


async def _world(services: Services) -> World:
    admin = services.admin
    ids = {name: (await admin.groups.create(SYSTEM, GroupChanges(name=name))).group_id
           for name in ("North", "South")}
    for name, groups in (("n1", ["North"]), ("n2", ["North"]), ("s1", ["South"]),
                         ("both", ["North", "South"]), ("loner", [])):
        ids[name] = await _user(services, name, *(ids[group] for group in groups))
    for name, number, holders in (("pn", "+15555550101", ["n1"]),
                                  ("ps", "+15555550102", ["s1"]),
                                  ("pshared", "+15555550103", ["n1", "s1"]),
                                  ("pfree", "+15555550104", [])):
        ids[name] = await _phone(services, number, *(ids[h] for h in holders))
    for name, holders in (("tn", ["n1"]), ("ts", ["s1"]), ("tshared", ["n1", "s1"]),
                          ("tfree", [])):
        ids[name] = await _token(services, name.upper(), *(ids[h] for h in holders))
    for name in ("n1", "s1"):
        await admin.users.issue_bypass_codes(SYSTEM, ids[name], BypassRequest(count=1))
    apps = {name: (await services.integrations.create("auth", name)).integration
            for name in ("inside", "outside")}
    ada, _, _ = await admin.admins.create(SYSTEM, "ada@example.org", "Ada", Role.ADMINISTRATOR,
                                          mail=False)
    ids["ada"] = ada.admin_id
    await admin.units.create(SYSTEM, UnitChanges(
        name="North", restrict_by_groups=True, restrict_by_integrations=True,
        members={MemberKind.ADMIN: [ada.admin_id], MemberKind.GROUP: [ids["North"]],
                 MemberKind.INTEGRATION: [apps["inside"].ikey]}))
    return World(ids, await admin.units.actor_for(ada), apps)


async def snapshot(store: Store) -> dict[str, Any]:
    """Every key but the administrator log, with its type and content."""
    read = {"string": ("GET",), "hash": ("HGETALL",), "set": ("SMEMBERS",),
            "zset": ("ZRANGE", 0, -1, "WITHSCORES"), "list": ("LRANGE", 0, -1),
            "stream": ("XRANGE", "-", "+")}
    state: dict[str, Any] = {}
    for key in sorted(await store.redis.execute("KEYS", "*")):
        if key.endswith(":adminlog"):
            continue
        kind = await store.redis.execute("TYPE", key)
        value = await store.redis.execute(read[kind][0], key, *read[kind][1:])
        state[key] = (kind, sorted(value) if kind in ("hash", "set") else value)
    return state


Call = Callable[[], Awaitable[Any]]


async def refused(store: Store, call: Call, error: type[Exception] = NotFound,
                  match: str | None = None) -> None:
    """The call fails with `error` and changes nothing."""
    before = await snapshot(store)
    with pytest.raises(error, match=match):
        await call()
    assert await snapshot(store) == before


async def test_scope_of_is_the_union_of_the_admins_units_and_owners_are_never_restricted(
        services: Services) -> None:
    world, units = await _world(services), services.admin.units
    ids = world.ids
    assert await units.scope_of(ids["ada"]) == Scope(frozenset({ids["North"]}),
                                                     frozenset({world.apps["inside"].ikey}))
    assert world.restricted.scope == await units.scope_of(ids["ada"])
    await units.create(SYSTEM, UnitChanges(name="South", restrict_by_groups=True,
                                           members={MemberKind.ADMIN: [ids["ada"]],
                                                    MemberKind.GROUP: [ids["South"]]}))
    assert await units.scope_of(ids["ada"]) == Scope(
        frozenset({ids["North"], ids["South"]}), None)  # South does not restrict apps
    bob, _, _ = await services.admin.admins.create(SYSTEM, "bob@example.org", "Bob",
                                                   Role.HELP_DESK, mail=False)
    assert await units.scope_of(bob.admin_id) == UNRESTRICTED
    with pytest.raises(InvalidParameter, match="Owner"):
        olive, _, _ = await services.admin.admins.create(SYSTEM, "o@example.org", "Olive",
                                                         Role.OWNER, mail=False)
        await units.add(SYSTEM, (await units.page(SYSTEM, 0, 1))[0][0].admin_unit_id,
                        MemberKind.ADMIN, olive.admin_id)
    await services.admin.admins.update(SYSTEM, ids["ada"], role=Role.OWNER)
    assert await units.scope_of(ids["ada"]) == UNRESTRICTED
    with pytest.raises(NotFound):
        await units.scope_of("DENOSUCH")


async def test_a_restricted_admin_lists_only_users_in_scope_with_their_totals(
        services: Services) -> None:
    world = await _world(services)
    ids, actor, users = world.ids, world.restricted, services.admin.users
    page, total = await users.page(actor, 0, 100)
    assert ([view.user.username for view in page], total) == (["n1", "n2", "both"], 3)
    page, total = await users.page(actor, 1, 1)
    assert ([view.user.username for view in page], total) == (["n2"], 3)
    assert (await users.page(SYSTEM, 0, 100))[1] == 5
    both = await users.get(actor, ids["both"])
    assert [group.name for group in both.groups] == ["North"]
    assert [group.name for group in (await users.get(SYSTEM, ids["both"])).groups] == \
        ["North", "South"]
    # A group outside that decides the status: the status stays true, the group unnamed.
    await services.admin.groups.update(SYSTEM, ids["South"], GroupChanges(status="disabled"))
    both = await users.get(actor, ids["both"])
    assert [(g.name, g.status.value) for g in both.groups] == \
        [("North", "active"), ("(a group outside your administrative units)", "disabled")]
    assert "South" not in json.dumps(user_json(both))
    assert user_json(both)["effective_status"] == "disabled"
    found = await users.lookup(actor, UserLookup(usernames=["n1", "s1", "loner", "both"]))
    assert [view.user.username for view in found] == ["n1", "both"]
    assert await users.lookup(actor, UserLookup(user_ids=[ids["s1"]])) == []
    await refused(services.store, lambda: users.get(actor, ids["s1"]))
    await refused(services.store, lambda: users.get(actor, ids["loner"]))
    groups = services.admin.groups
    assert [g.name for g in (await groups.page(actor, 0, 10))[0]] == ["North"]
    assert (await groups.page(actor, 0, 10))[1] == 1
    assert [g.name for g in await groups.lookup(actor, [ids["North"], ids["South"]])] == \
        ["North"]
    assert [g.name for g in await groups.of_user(actor, ids["both"])] == ["North"]
    await refused(services.store, lambda: groups.get(actor, ids["South"]))
    await refused(services.store, lambda: groups.members(actor, ids["South"], 0, 10))


async def test_a_restricted_admin_sees_devices_held_in_scope_or_by_nobody(
        services: Services) -> None:
    world = await _world(services)
    ids, actor, devices = world.ids, world.restricted, services.admin.devices
    phones, total = await devices.phones(actor, 0, 100)
    shown = {item.phone.phone_id: [user.username for user in item.users] for item in phones}
    assert (shown, total) == ({ids["pn"]: ["n1"], ids["pshared"]: ["n1"], ids["pfree"]: []}, 3)
    assert (await devices.phones(SYSTEM, 0, 100))[1] == 4
    assert [u.username for u in (await devices.phone(actor, ids["pshared"])).users] == ["n1"]
    await refused(services.store, lambda: devices.phone(actor, ids["ps"]))
    assert await devices.phones_by_number(actor, "+15555550102", "") == []
    tokens, owners, total = await devices.tokens(actor, 0, 100)
    assert ({token.serial for token in tokens}, total) == ({"TN", "TSHARED", "TFREE"}, 3)
    assert {user.username for user in owners.values()} == {"n1"}
    await refused(services.store, lambda: devices.token(actor, ids["ts"]))
    assert await devices.tokens_by_serial(actor, "TS", None) == ([], {})
    codes, owners, total = await devices.bypass_codes(actor, 0, 100)
    assert ([code.user_id for code in codes], total) == ([ids["n1"]], 1)
    assert (await devices.bypass_codes(SYSTEM, 0, 100))[2] == 2
    s1_code = (await services.admin.users.bypass_codes(SYSTEM, ids["s1"]))[1][0].code_id
    await refused(services.store, lambda: devices.delete_bypass_code(actor, s1_code))
    # A device shared with a user outside is refused, not changed for them too.
    shared: list[Call] = [
        lambda: devices.update_phone(actor, ids["pshared"], PhoneChanges(name="Mine")),
        lambda: devices.delete_phone(actor, ids["pshared"]),
        lambda: devices.delete_token(actor, ids["tshared"]),
        lambda: devices.attach_phone(actor, ids["n2"], ids["pshared"])]
    for change in shared:
        await refused(services.store, change, Forbidden, "shared")
    outside: list[Call] = [
        lambda: devices.update_phone(actor, ids["ps"], PhoneChanges(name="Mine")),
        lambda: devices.delete_token(actor, ids["ts"]),
        lambda: devices.activation(actor, ids["ps"], None),
        lambda: devices.send_sms_passcodes(actor, ids["ps"])]
    for change in outside:
        await refused(services.store, change)
    await devices.update_phone(actor, ids["pn"], PhoneChanges(name="Work"))
    await devices.assign_token(actor, ids["n2"], ids["tfree"])
    assert [t.serial for t in await devices.user_tokens(actor, ids["n2"])] == ["TFREE"]


async def test_every_user_facade_refuses_a_user_outside_scope_with_404_and_no_change(
        services: Services) -> None:
    world = await _world(services)
    ids, actor, admin = world.ids, world.restricted, services.admin
    s1 = ids["s1"]
    calls: list[Call] = [
        lambda: admin.users.update(actor, s1, UserChanges(realname="Changed")),
        lambda: admin.users.update(actor, s1, UserChanges(status="disabled")),
        lambda: admin.users.delete(actor, s1),
        lambda: admin.users.bypass_codes(actor, s1),
        lambda: admin.users.issue_bypass_codes(actor, s1, BypassRequest(count=1)),
        lambda: admin.users.send_verification_push(actor, s1, ids["ps"],
                                                   world.apps["inside"]),
        lambda: admin.users.verification_push_response(actor, s1, "push"),
        lambda: admin.users.security_key_enrollment(actor, s1, "s1@example.org", None),
        lambda: admin.devices.user_phones(actor, s1),
        lambda: admin.devices.attach_phone(actor, s1, ids["pfree"]),
        lambda: admin.devices.detach_phone(actor, s1, ids["ps"]),
        lambda: admin.devices.reorder_phones(actor, s1, [ids["ps"], ids["pshared"]]),
        lambda: admin.devices.user_tokens(actor, s1),
        lambda: admin.devices.assign_token(actor, s1, ids["tfree"]),
        lambda: admin.devices.unassign_token(actor, s1, ids["ts"]),
        lambda: admin.devices.user_keys(actor, s1),
        lambda: admin.groups.of_user(actor, s1),
        lambda: admin.groups.add_member(actor, s1, ids["North"]),
        lambda: admin.groups.remove_member(actor, s1, ids["South"]),
        lambda: admin.trash.restore(actor, s1),
        lambda: admin.trash.delete_now(actor, s1),
    ]
    for call in calls:
        await refused(services.store, call)
    await refused(services.store,
                  lambda: admin.groups.add_member(actor, ids["n1"], ids["South"]),
                  InvalidParameter)
    assert (await admin.users.get(SYSTEM, s1)).user.realname == ""


async def test_what_would_reach_beyond_the_scope_is_refused_with_a_reason(
        services: Services) -> None:
    world = await _world(services)
    ids, actor, admin = world.ids, world.restricted, services.admin
    refusals: list[Call] = [
        lambda: admin.users.add(actor, UserChanges(username="newbie")),
        lambda: admin.users.import_users(actor, "username\nnewbie\n"),
        lambda: admin.users.enroll(actor, "newbie", "newbie@example.org", None),
        # A user outside gets the answer an unknown name gets.
        lambda: admin.users.enroll(actor, "s1", "s1@example.org", None),
        lambda: admin.account.bulk_enroll(actor, "newbie,newbie@example.org\n", None),
        lambda: admin.groups.create(actor, GroupChanges(name="Mine")),
        lambda: admin.integrations.create(actor, IntegrationChanges(name="Mine",
                                                                    type="authapi")),
        lambda: admin.trash.counts(actor), lambda: admin.trash.summary(actor),
        lambda: admin.account.administrator_log(actor, 0),
        lambda: admin.account.telephony_log(actor, LogQuery(mintime=0, maxtime=2**62)),
    ]
    for call in refusals:
        await refused(services.store, call, Forbidden, "administrative units")
    outside = world.apps["outside"].ikey
    await refused(services.store, lambda: admin.integrations.get(actor, outside))
    await refused(services.store, lambda: admin.integrations.secret_key(actor, outside))
    await refused(services.store, lambda: admin.integrations.delete(actor, outside))
    inside = world.apps["inside"].ikey
    await refused(services.store, lambda: admin.integrations.update(
        actor, inside, IntegrationChanges(groups_allowed=[ids["South"]])), InvalidParameter)
    changed = await admin.integrations.update(
        actor, inside, IntegrationChanges(groups_allowed=[ids["North"]]))
    assert changed.groups_allowed == (ids["North"],)
    apps, total = await admin.integrations.page(actor, 0, 100)
    assert ([app.name for app in apps], total) == (["inside"], 1)
    assert (await admin.integrations.page(SYSTEM, 0, 100))[1] == 2
    await admin.users.delete(SYSTEM, ids["n2"])
    await admin.users.delete(SYSTEM, ids["s1"])
    entries, total = await admin.trash.page(actor, 0, 10)
    assert ([entry.view.user.username for entry in entries], total) == (["n2"], 1)
    await admin.trash.restore(actor, ids["n2"])


async def test_the_authentication_log_shows_only_users_and_applications_in_scope(
        services: Services) -> None:
    world = await _world(services)
    ids, apps = world.ids, world.apps
    verdict = Verdict(Result.ALLOW, "allow", "ok", "valid_passcode", LogFactor.BYPASS_CODE)
    for n, (user, app) in enumerate((("n1", "inside"), ("n1", "outside"), ("s1", "inside"),
                                     ("both", "inside"))):
        facts = AttemptFacts(txid=f"tx{n}", app_key=apps[app].ikey, app_name=app,
                             user_id=ids[user], username=user)
        await services.authlog.record(facts, verdict, 1_800_000_000 + n)
    query = LogQuery(mintime=0, maxtime=2**62, limit=10)
    seen = await services.admin.account.authentication_log(world.restricted, query)
    assert sorted(r["user"]["name"] for r in seen.records) == ["both", "n1"]
    assert seen.total == 2
    assert (await services.admin.account.authentication_log(SYSTEM, query)).total == 4


async def test_a_unit_change_applies_to_the_admins_next_actor(services: Services) -> None:
    world = await _world(services)
    ids, units = world.ids, services.admin.units
    unit_id = (await units.page(SYSTEM, 0, 1))[0][0].admin_unit_id
    admin = await services.admin.admins.get(SYSTEM, ids["ada"])
    await units.add(SYSTEM, unit_id, MemberKind.GROUP, ids["South"])
    actor = await units.actor_for(admin)
    assert (await services.admin.users.page(actor, 0, 100))[1] == 4
    await units.remove(SYSTEM, unit_id, MemberKind.ADMIN, ids["ada"])
    actor = await units.actor_for(admin)
    assert actor.scope == UNRESTRICTED
    assert (await services.admin.users.page(actor, 0, 100))[1] == 5
