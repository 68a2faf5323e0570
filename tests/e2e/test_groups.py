"""Groups through duo_client.Admin, unmodified, against the service process: the group calls,
memberships, and what a group decides for its members at preauth and auth (status override,
factor switches)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import duo_client
import pytest

from authsvc.clock import SystemClock
from authsvc.domain.audit import AdminLog
from authsvc.store import Redis, Store
from mobile_sim.carrier import Carrier, passcodes
from tests.e2e.carrier_helpers import carrier_of
from tests.harness import ServiceProcess

NUMBER = "+15555550177"


def _log_reasons(admin: duo_client.Admin, user_id: str) -> list[str]:
    now_ms = int(time.time() * 1000)
    logs = admin.get_authentication_log(api_version=2, users=[user_id], sort="ts:asc",
                                        mintime=now_ms - 60_000, maxtime=now_ms + 1000)
    return [record["reason"] for record in logs["authlogs"]]


def admin_log(redis_url: str) -> list[dict[str, Any]]:
    """The administrator log as the domain reads it (its Admin API path is another branch's)."""

    async def read() -> list[dict[str, Any]]:
        store = Store(Redis.from_url(redis_url))
        try:
            return await AdminLog(store, SystemClock()).since(0)
        finally:
            await store.close()

    return asyncio.run(read())


def _user_with_code(admin: duo_client.Admin, name: str, **fields: Any) -> tuple[str, str]:
    """A user holding one reusable bypass code: (user id, code)."""
    user = admin.add_user(name, **fields)
    code = admin.add_user_bypass_codes(user["user_id"], count=1, remaining_uses=0,
                                       valid_secs=3600)[0]
    return user["user_id"], code


def test_duo_clients_group_calls_create_list_read_modify_and_delete(
        admin_api: duo_client.Admin, redis_url: str) -> None:
    created = admin_api.create_group("Engineers", desc="build things", status="active",
                                     push_enabled=True, sms_enabled=False, voice_enabled=True,
                                     mobile_otp_enabled=True, u2f_enabled=False)
    group_id = created["group_id"]
    assert group_id.startswith("DG") and len(group_id) == 20
    assert created == {"group_id": group_id, "name": "Engineers", "desc": "build things",
                       "status": "active", "push_enabled": True, "sms_enabled": False,
                       "voice_enabled": True, "mobile_otp_enabled": True, "u2f_enabled": False}
    other = admin_api.create_group("Contractors")
    assert [g["name"] for g in admin_api.get_groups()] == ["Engineers", "Contractors"]
    assert admin_api.get_groups(limit=1, offset=1) == [other]
    assert admin_api.get_groups_by_group_ids([other["group_id"]]) == [other]
    assert admin_api.get_group(group_id, api_version=2) == created
    with pytest.warns(DeprecationWarning):
        assert admin_api.get_group(group_id) == created
    modified = admin_api.modify_group(group_id, name="Eng", status="bypass", sms_enabled=True)
    assert (modified["name"], modified["status"], modified["sms_enabled"]) == \
        ("Eng", "bypass", True)
    assert modified["desc"] == "build things" and modified["u2f_enabled"] is False
    assert admin_api.delete_group(group_id) == ""
    assert admin_api.delete_group(group_id) == ""  # already gone: still 200
    with pytest.raises(RuntimeError, match="404"):
        admin_api.get_group(group_id, api_version=2)
    assert admin_api.get_groups() == [other]
    actions = [(r["action"], r["object"]) for r in admin_log(redis_url)]
    assert ("group_create", "Engineers") in actions and ("group_delete", "Eng") in actions


def test_users_join_and_leave_groups_and_the_user_object_lists_them(
        admin_api: duo_client.Admin) -> None:
    alice, bob = admin_api.add_user("alice"), admin_api.add_user("bob")
    staff, admins = admin_api.create_group("staff"), admin_api.create_group("Admins")
    for user in (alice, bob):
        admin_api.add_user_group(user["user_id"], staff["group_id"])
    admin_api.add_user_group(alice["user_id"], admins["group_id"])
    admin_api.add_user_group(alice["user_id"], admins["group_id"])  # twice: nothing changes
    assert admin_api.get_user_groups(alice["user_id"]) == [admins, staff]  # by name
    assert admin_api.get_user_by_id(alice["user_id"])["groups"] == [admins, staff]
    assert admin_api.get_users_by_name("alice")[0]["groups"] == [admins, staff]
    members = admin_api.get_group_users(staff["group_id"])
    assert members == [{"user_id": alice["user_id"], "username": "alice"},
                       {"user_id": bob["user_id"], "username": "bob"}]
    assert admin_api.get_group_users(staff["group_id"], limit=1, offset=1) == members[1:]
    renamed = admin_api.modify_group(admins["group_id"], name="Admins (renamed)")
    assert admin_api.get_user_by_id(alice["user_id"])["groups"][0] == renamed
    admins = renamed
    admin_api.delete_user_group(alice["user_id"], staff["group_id"])
    assert admin_api.get_user_groups(alice["user_id"]) == [admins]
    assert admin_api.get_group_users(staff["group_id"]) == members[1:]
    admin_api.delete_user(bob["user_id"])  # to the Trash: still a member, restorable
    assert admin_api.get_group_users(staff["group_id"]) == members[1:]
    admin_api.json_api_call("DELETE", f"/admin/v1/trash/{bob['user_id']}", {})
    assert admin_api.get_group_users(staff["group_id"]) == []
    admin_api.delete_group(admins["group_id"])
    assert admin_api.get_user_by_id(alice["user_id"])["groups"] == []


def test_bad_group_input_is_a_clear_400_and_unknown_objects_404(
        admin_api: duo_client.Admin) -> None:
    user = admin_api.add_user("carol")
    group = admin_api.create_group("g")
    for bad in ({"status": "locked out"}, {"name": " "}, {"push_enabled": "maybe"}):
        with pytest.raises(RuntimeError, match="400") as caught:
            admin_api.json_api_call("POST", f"/admin/v1/groups/{group['group_id']}", bad)
        assert next(iter(bad)) in str(caught.value)
    with pytest.raises(RuntimeError, match="400.*name"):
        admin_api.json_api_call("POST", "/admin/v1/groups", {"desc": "no name"})
    with pytest.raises(RuntimeError, match="400.*group_id"):
        admin_api.add_user_group(user["user_id"], "DGNOSUCHGROUP0000000")
    with pytest.raises(RuntimeError, match="404"):
        admin_api.add_user_group("DUNOSUCHUSER00000000", group["group_id"])
    with pytest.raises(RuntimeError, match="404"):
        admin_api.modify_group("DGNOSUCHGROUP0000000", name="x")
    with pytest.raises(RuntimeError, match="404"):
        admin_api.get_group_users("DGNOSUCHGROUP0000000")
    assert admin_api.get_group(group["group_id"], api_version=2)["status"] == "active"


def test_a_disabled_group_denies_its_active_member_until_the_member_leaves_it(
        admin_api: duo_client.Admin, auth_api: duo_client.Auth) -> None:
    user_id, code = _user_with_code(admin_api, "dora")
    group = admin_api.create_group("Suspended", status="disabled")
    assert auth_api.auth("passcode", username="dora", passcode=code)["result"] == "allow"
    admin_api.add_user_group(user_id, group["group_id"])
    shown = admin_api.get_user_by_id(user_id)
    assert (shown["status"], shown["effective_status"]) == ("active", "disabled")
    assert shown["status_source"] == {"group_id": group["group_id"], "name": "Suspended"}
    assert auth_api.preauth(username="dora")["result"] == "deny"
    answer = auth_api.auth("passcode", username="dora", passcode=code)
    assert (answer["result"], answer["status"]) == ("deny", "deny")
    admin_api.delete_user_group(user_id, group["group_id"])
    assert admin_api.get_user_by_id(user_id)["status_source"] is None
    assert auth_api.auth("passcode", username="dora", passcode=code)["result"] == "allow"
    assert _log_reasons(admin_api, user_id) == ["valid_passcode", "user_disabled",
                                                "user_disabled", "valid_passcode"]


def test_a_group_status_change_reaches_members_at_once(
        admin_api: duo_client.Admin, auth_api: duo_client.Auth) -> None:
    user_id, code = _user_with_code(admin_api, "erin")
    group = admin_api.create_group("Staff")
    admin_api.add_user_group(user_id, group["group_id"])
    assert auth_api.auth("passcode", username="erin", passcode=code)["result"] == "allow"
    admin_api.modify_group(group["group_id"], status="disabled")
    assert auth_api.auth("passcode", username="erin", passcode=code)["result"] == "deny"
    admin_api.modify_group(group["group_id"], status="active")
    assert auth_api.auth("passcode", username="erin", passcode=code)["result"] == "allow"
    admin_api.modify_group(group["group_id"], status="disabled")
    admin_api.delete_group(group["group_id"])
    assert auth_api.auth("passcode", username="erin", passcode=code)["result"] == "allow"


def test_a_bypass_group_lets_its_member_in_even_over_the_members_own_disabled_status(
        admin_api: duo_client.Admin, auth_api: duo_client.Auth) -> None:
    user = admin_api.add_user("finn", status="disabled")
    group = admin_api.create_group("Kiosks", status="bypass")
    assert auth_api.preauth(username="finn")["result"] == "deny"
    admin_api.add_user_group(user["user_id"], group["group_id"])
    assert auth_api.preauth(username="finn")["result"] == "allow"
    answer = auth_api.auth("passcode", username="finn", passcode="000000")
    assert (answer["result"], answer["status"]) == ("allow", "bypass")
    assert admin_api.get_user_by_id(user["user_id"])["effective_status"] == "bypass"
    admin_api.delete_user_group(user["user_id"], group["group_id"])
    assert auth_api.auth("passcode", username="finn", passcode="000000")["result"] == "deny"


def test_of_several_deciding_groups_disabled_beats_bypass_and_is_named_as_the_source(
        admin_api: duo_client.Admin, auth_api: duo_client.Auth) -> None:
    user_id, code = _user_with_code(admin_api, "gus")
    open_group = admin_api.create_group("A bypass", status="bypass")
    closed = admin_api.create_group("Z disabled", status="disabled")
    admin_api.add_user_group(user_id, open_group["group_id"])
    admin_api.add_user_group(user_id, closed["group_id"])
    shown = admin_api.get_user_by_id(user_id)
    assert shown["effective_status"] == "disabled"
    assert shown["status_source"]["group_id"] == closed["group_id"]
    assert auth_api.auth("passcode", username="gus", passcode=code)["result"] == "deny"
    admin_api.modify_group(closed["group_id"], status="active")
    assert auth_api.auth("passcode", username="gus", passcode="1")["status"] == "bypass"


def test_a_locked_out_member_of_a_bypass_group_is_let_in(
        admin_api: duo_client.Admin, auth_api: duo_client.Auth) -> None:
    admin_api.update_settings(lockout_threshold=2)
    user_id, _ = _user_with_code(admin_api, "hana")
    for _ in range(2):
        auth_api.auth("passcode", username="hana", passcode="99999999")
    assert auth_api.auth("passcode", username="hana", passcode="1")["status"] == "locked_out"
    group = admin_api.create_group("Bypass", status="bypass")
    admin_api.add_user_group(user_id, group["group_id"])
    assert auth_api.auth("passcode", username="hana", passcode="1")["status"] == "bypass"


@pytest.fixture
def carrier(service: ServiceProcess) -> Carrier:
    return carrier_of(service)


def test_a_group_turning_sms_and_calls_off_restricts_its_members(
        admin_api: duo_client.Admin, auth_api: duo_client.Auth, carrier: Carrier) -> None:
    user = admin_api.add_user("ivy")
    phone = admin_api.add_phone(number=NUMBER, type="mobile", platform="google android")
    admin_api.add_user_phone(user["user_id"], phone["phone_id"])
    auth_api.auth("sms", username="ivy", device="auto")
    codes = passcodes(carrier.messages("sms", NUMBER)[-1])
    open_group = admin_api.create_group("calls fine")
    no_sms = admin_api.create_group("no sms", sms_enabled=False)
    admin_api.add_user_group(user["user_id"], open_group["group_id"])
    assert auth_api.preauth(username="ivy")["devices"][0]["capabilities"] == \
        ["auto", "sms", "phone"]
    admin_api.add_user_group(user["user_id"], no_sms["group_id"])  # one group off is enough
    assert auth_api.preauth(username="ivy")["devices"][0]["capabilities"] == ["auto", "phone"]
    answer = auth_api.auth("sms", username="ivy", device="auto")
    assert (answer["result"], answer["status"]) == ("deny", "deny")
    assert auth_api.auth("passcode", username="ivy", passcode=codes[0])["result"] == "deny"
    admin_api.modify_group(no_sms["group_id"], sms_enabled=True, voice_enabled=False)
    assert auth_api.preauth(username="ivy")["devices"][0]["capabilities"] == ["sms"]
    assert auth_api.auth("phone", username="ivy", device="auto")["result"] == "deny"
    assert auth_api.auth("passcode", username="ivy", passcode=codes[1])["result"] == "allow"
    reasons = _log_reasons(admin_api, user["user_id"])
    assert reasons == ["factor_restricted", "invalid_passcode", "factor_restricted",
                       "valid_passcode"]
