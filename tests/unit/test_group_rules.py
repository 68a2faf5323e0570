"""What a user's groups decide (model/groups.py): status precedence, the deciding group, factor
switches and permitted groups, as pure rules."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from authsvc.factors import REGISTRY
from authsvc.model.factors import FactorKind
from authsvc.model.groups import SWITCHES, Group, GroupStanding, GroupStatus, effective_status
from authsvc.model.users import UserStatus

ACTIVE, BYPASS, DISABLED = GroupStatus.ACTIVE, GroupStatus.BYPASS, GroupStatus.DISABLED


def group(group_id: str, status: GroupStatus = ACTIVE, **switches: Any) -> Group:
    return dataclasses.replace(Group(group_id=group_id, name=group_id, status=status),
                               **switches)


def standing(*groups: Group) -> GroupStanding:
    return GroupStanding.of(groups, "7")


@pytest.mark.parametrize(("own", "statuses", "expected"), [
    (UserStatus.ACTIVE, (), UserStatus.ACTIVE),
    (UserStatus.DISABLED, (ACTIVE,), UserStatus.DISABLED),
    (UserStatus.DISABLED, (BYPASS,), UserStatus.BYPASS),
    (UserStatus.LOCKED_OUT, (BYPASS, ACTIVE), UserStatus.BYPASS),
    (UserStatus.BYPASS, (DISABLED,), UserStatus.DISABLED),
    (UserStatus.ACTIVE, (BYPASS, DISABLED, BYPASS), UserStatus.DISABLED),
])
def test_a_disabled_group_beats_a_bypass_group_which_beats_the_users_own_status(
        own: UserStatus, statuses: tuple[GroupStatus, ...], expected: UserStatus) -> None:
    groups = [group(f"G{i}", status) for i, status in enumerate(statuses)]
    status, source = effective_status(own, standing(*groups))
    assert status is expected
    assert (source is None) == (expected is own and not {BYPASS, DISABLED} & set(statuses))


def test_the_source_is_the_first_deciding_group_by_name_and_the_gate_is_told_its_status(
) -> None:
    decided = standing(group("b", BYPASS), group("z", DISABLED), group("c", DISABLED))
    assert decided.deciding_group == group("c", DISABLED)
    assert decided.gate.status == "disabled" and decided.gate.version == "7"
    assert standing(group("a")).gate.status == ""


def test_every_switch_governs_registered_factors_and_tokens_have_none() -> None:
    governed = {kind for kinds in SWITCHES.values() for kind in kinds}
    assert governed <= set(REGISTRY)
    assert not governed & {FactorKind.BYPASS, FactorKind.HOTP, FactorKind.TOTP,
                           FactorKind.YUBIKEY}


def test_one_group_turning_a_factor_off_is_enough() -> None:
    member = standing(group("a"), group("b", push_enabled=False, u2f_enabled=False))
    assert not member.allows(FactorKind.PUSH)
    assert not member.allows(FactorKind.WEBAUTHN) and not member.allows(FactorKind.U2F)
    assert member.allows(FactorKind.SMS) and member.allows(FactorKind.HOTP)
    assert standing().allows(FactorKind.PUSH)


@pytest.mark.parametrize(("switches", "expected"), [
    ({}, ["auto", "push", "mobile_otp", "sms", "phone"]),
    ({"push_enabled": False}, ["auto", "mobile_otp", "sms", "phone"]),
    ({"push_enabled": False, "voice_enabled": False}, ["mobile_otp", "sms"]),
    ({"mobile_otp_enabled": False, "sms_enabled": False}, ["auto", "push", "phone"]),
])
def test_capabilities_lose_what_is_turned_off_and_auto_follows_push_or_phone(
        switches: dict[str, bool], expected: list[str]) -> None:
    caps = ["auto", "push", "mobile_otp", "sms", "phone"]
    assert standing(group("g", ACTIVE, **switches)).capabilities(caps) == expected


def test_permitted_groups_admit_members_of_any_of_them_and_empty_admits_everyone() -> None:
    member = standing(group("a"), group("b"))
    assert member.permits(()) and member.permits(("x", "b"))
    assert not member.permits(("x",))
    assert not standing().permits(("a",))
