"""Bulk user import against real Redis: the CSV's rules (line, field and why for each bad row),
create / update / upsert / delete, phones found or created, each row all or nothing."""

from __future__ import annotations

from typing import Any

import pytest

from authsvc.clock import FakeClock
from authsvc.crypto import SecretBox
from authsvc.domain.groups import GroupChanges, GroupDirectory
from authsvc.domain.links import Links
from authsvc.domain.messages import Messenger
from authsvc.domain.phones import PhoneDirectory
from authsvc.domain.trash import Trash
from authsvc.domain.user_import import UserImporter
from authsvc.domain.user_import_csv import ImportRow, parse_import_csv
from authsvc.domain.users import UserChanges, UserDirectory
from authsvc.errors import Forbidden, InvalidParameter
from authsvc.gateways.delivery import OutboxProvider
from authsvc.model.users import User, UserStatus
from authsvc.store import Store

HEADER = "username,action,email,status,alias1,alias2,groups,phone1,phone1_platform"


class FailingPhones(PhoneDirectory):
    """Phones that cannot be attached for one number: a step that fails after the user's."""

    async def attach(self, user_id: str, phone_id: str) -> None:
        phone = await self.get(phone_id)
        if phone.number == "+15555550199":
            raise InvalidParameter("phone1 (the carrier refused it)")
        await super().attach(user_id, phone_id)


def importer(store: Store, clock: FakeClock, box: SecretBox, *,
             phones: type[PhoneDirectory] = PhoneDirectory) -> tuple[UserImporter, UserDirectory]:
    users = UserDirectory(store, clock)
    messenger = Messenger(store, clock, OutboxProvider(store, clock, box))
    directory = phones(store, box, clock, Links("http://localhost"), messenger)
    return UserImporter(users, directory, Trash(store, clock), GroupDirectory(store, clock)), users


def results(report_rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(row["line"], row.get("result") or (row["field"], row["error"]))
            for row in report_rows]


def test_every_bad_row_is_named_by_line_field_and_why() -> None:
    text = "\n".join([HEADER,
                      "ok,,ok@example.org,,,,,,",
                      ",,a@example.org,,,,,,",
                      "bad-email,,no-at-sign,,,,,,",
                      "bad-status,,,sleepy,,,,,",
                      "bad-action,frobnicate,,,,,,,",
                      "bad-phone,,,,,,,12,",
                      "bad-platform,,,,,,,+15555550100,toaster",
                      "twins,,,,twin,twin,,,",
                      "ok,,again@example.org,,,,,,",
                      "too,many,fields,,,,,,,,,,"])

    rows, errors = parse_import_csv(text)

    assert [row.username for row in rows] == ["ok"]
    assert [(e.line, e.field) for e in errors] == [
        (3, "username"), (4, "email"), (5, "status"), (6, "action"), (7, "phone1"),
        (8, "phone1_platform"), (9, "aliases"), (10, "username"), (11, "")]
    assert "already in an earlier row" in errors[7].why
    assert "active, bypass or disabled" in errors[2].why


@pytest.mark.parametrize("text", ["", "email\nx@example.org", "username,shoe_size\nann,9",
                                  "username,username\nann,ann", "username\n"])
def test_an_unusable_file_is_refused_as_a_whole(text: str) -> None:
    with pytest.raises(InvalidParameter, match="csv"):
        parse_import_csv(text)


async def test_rows_create_update_and_delete_users_with_their_phones(
        store: Store, clock: FakeClock, box: SecretBox) -> None:
    run, users = importer(store, clock, box)
    existing = await users.add(UserChanges(username="bo", email="old@example.org",
                                           aliases={1: "bobby"}))
    text = "\n".join([HEADER,
                      "al,create,al@example.org,bypass,alan,,,+15555550100,apple ios",
                      "bobby,,new@example.org,,-,,,+15555550100,",  # upsert through an alias
                      "cy,delete,,,,,,,",
                      "bo,create,,,,,,,"])
    await users.add(UserChanges(username="cy"))

    report = await run.run(text)

    assert results(report.rows) == [(2, "created"), (3, "updated"), (4, "deleted"),
                                    (5, ("username", "a user with this name or alias exists"))]
    al = await users.by_name("alan")
    assert al is not None and (al.username, al.email, al.status) == (
        "al", "al@example.org", UserStatus.BYPASS)
    bo = await users.get(existing.user_id)
    assert (bo.username, bo.email, bo.aliases) == ("bo", "new@example.org", {})
    shared = await store.phones.of_user(al.user_id)
    assert shared == await store.phones.of_user(bo.user_id)  # one phone, found by its number
    cy = await users.by_name("cy")
    assert cy is not None and cy.in_trash


async def test_a_row_failing_after_its_user_was_written_leaves_nothing_behind(
        store: Store, clock: FakeClock, box: SecretBox) -> None:
    run, users = importer(store, clock, box, phones=FailingPhones)
    before = await users.add(UserChanges(username="dee", email="dee@example.org"))
    text = "\n".join(["username,email,phone1,phone2",
                      "eve,eve@example.org,+15555550101,+15555550199",
                      "dee,changed@example.org,+15555550102,+15555550199",
                      "fay,fay@example.org,+15555550103,"])

    report = await run.run(text)

    assert results(report.rows) == [(2, ("phone1", "the carrier refused it")),
                                    (3, ("phone1", "the carrier refused it")), (4, "created")]
    assert await users.by_name("eve") is None  # created, then undone
    dee = await users.get(before.user_id)
    assert (dee.email, await store.phones.of_user(dee.user_id)) == ("dee@example.org", [])
    listed, total = await store.phones.page(0, 100)
    assert len(listed) == total == 1  # only fay's phone: the rows undone deleted the phones they made
    counts = await store.counts.totals(inactive_by_s=0, locked_after_ms=None)
    assert (counts.total, counts.not_enrolled) == (2, 1)


async def test_groups_and_a_role_that_may_not_set_a_status_fail_their_row_only(
        store: Store, clock: FakeClock, box: SecretBox) -> None:
    run, users = importer(store, clock, box)

    async def user_manager_without_bypass(row: ImportRow, existing: User | None) -> None:
        if row.changes.status == "bypass":
            raise Forbidden("user_manager may not apply bypass status (setting)")

    text = "\n".join([HEADER, "gil,,,,,,staff;vpn,,", "hal,,,bypass,,,,,", "ida,,,active,,,,,"])
    report = await run.run(text, check=user_manager_without_bypass)

    assert [row.get("field") for row in report.rows] == ["groups", None, None]
    assert report.rows[1]["error"] == "user_manager may not apply bypass status (setting)"
    assert report.errors == 2
    assert [await users.by_name(name) is not None for name in ("gil", "hal", "ida")] == [
        False, False, True]


async def test_rows_join_the_groups_they_name_and_a_failed_row_leaves_them(
        store: Store, clock: FakeClock, box: SecretBox) -> None:
    run, users = importer(store, clock, box, phones=FailingPhones)
    groups = GroupDirectory(store, clock)
    staff = await groups.create(GroupChanges(name="Staff"))
    vpn = await groups.create(GroupChanges(name="vpn"))
    await groups.create(GroupChanges(name="twice"))
    await groups.create(GroupChanges(name="Twice"))
    kay = await users.add(UserChanges(username="kay"))
    await groups.add_member(kay, vpn.group_id)

    text = "\n".join([HEADER, "lee,,,,,,staff;VPN,,", "kay,update,,,,,staff,+15555550199,",
                      "max,,,,,,twice,,", "ned,,,,,,nobody,,"])
    report = await run.run(text)

    assert results(report.rows) == [
        (2, "created"), (3, ("phone1", "the carrier refused it")),
        (4, ("groups", "more than one group is named 'twice'")),
        (5, ("groups", "no group named 'nobody'"))]
    lee = await users.by_name("lee")
    assert lee is not None
    assert [g.name for g in await groups.of_user(lee)] == ["Staff", "vpn"]
    assert [g.name for g in await groups.of_user(kay)] == ["vpn"]  # kept; staff undone
    members, count = await groups.members(staff.group_id, 0, 10)
    assert (members, count) == ([(lee.user_id, "lee")], 1)


async def test_a_dry_run_changes_nothing(store: Store, clock: FakeClock, box: SecretBox) -> None:
    run, users = importer(store, clock, box)
    await users.add(UserChanges(username="jo"))

    report = await run.run("username,action\njo,delete\nkim,\n", dry_run=True)

    assert results(report.rows) == [(2, "would_delete"), (3, "would_create")]
    assert await users.by_name("kim") is None
    jo = await users.by_name("jo")
    assert jo is not None and not jo.in_trash
