"""What the permission table cannot say alone (seed 001), each against the real service:
the Help Desk's status, field, bypass-code and enrollment-email limits, the User Manager's
bypass setting, and every refusal written to the administrator log."""

from __future__ import annotations

import duo_client
import pytest

from authsvc.model.roles import Role
from tests.conftest import IntegrationPair
from tests.harness import ServiceProcess
from tests.roles.test_matrix import admin_client

pytestmark = pytest.mark.slow


@pytest.fixture
def owner(redis_url: str, service: ServiceProcess) -> duo_client.Admin:
    return admin_client(redis_url, service, Role.OWNER)


@pytest.fixture
def help_desk(redis_url: str, service: ServiceProcess) -> duo_client.Admin:
    return admin_client(redis_url, service, Role.HELP_DESK)


def _refused(call: object) -> None:
    """Assert the call (a zero-argument callable) is refused with Duo's 403/40301."""
    with pytest.raises(RuntimeError, match="403"):
        call()  # type: ignore[operator]


def _settings(owner: duo_client.Admin, **values: str) -> None:
    owner.json_api_call("POST", "/admin/v1/settings", values)


def test_help_desk_reactivates_locked_out_and_disabled_users_and_nothing_else(
        owner: duo_client.Admin, help_desk: duo_client.Admin, redis_url: str,
        service: ServiceProcess, integrations: IntegrationPair) -> None:
    auth = duo_client.Auth(integrations.auth.ikey, integrations.auth.skey, "127.0.0.1",
                           ca_certs="HTTP", port=service.port)
    _settings(owner, lockout_threshold="1")
    locked = owner.add_user("lou")
    owner.add_user_bypass_codes(locked["user_id"], codes=["11223344"])
    assert auth.auth("passcode", username="lou", passcode="99999999")["status"] == "locked_out"
    assert help_desk.update_user(locked["user_id"], status="active")["status"] == "active"
    disabled = owner.add_user("dee", status="disabled")
    assert help_desk.update_user(disabled["user_id"], status="active")["status"] == "active"
    active = owner.add_user("ann")
    for status in ("bypass", "disabled"):
        _refused(lambda status=status: help_desk.update_user(active["user_id"], status=status))
    _refused(lambda: help_desk.update_user(disabled["user_id"], status="bypass"))
    assert owner.get_user_by_id(active["user_id"])["status"] == "active"


def test_help_desk_edits_name_email_and_notes_but_not_username_or_aliases(
        owner: duo_client.Admin, help_desk: duo_client.Admin) -> None:
    user = owner.add_user("nora", alias1="n.ora")
    changed = help_desk.update_user(user["user_id"], realname="Nora N", email="nora@example.org",
                                    notes="called on Monday")
    assert (changed["realname"], changed["email"], changed["notes"]) == \
        ("Nora N", "nora@example.org", "called on Monday")
    _refused(lambda: help_desk.update_user(user["user_id"], username="nora2"))
    _refused(lambda: help_desk.update_user(user["user_id"], alias1="other"))
    _refused(lambda: help_desk.update_user(user["user_id"], realname="X", alias2="sneaky"))
    kept = owner.get_user_by_id(user["user_id"])
    assert (kept["username"], kept["aliases"], kept["realname"]) == \
        ("nora", {"alias1": "n.ora"}, "Nora N")


def test_help_desk_bypass_codes_follow_the_help_desk_setting(
        owner: duo_client.Admin, help_desk: duo_client.Admin) -> None:
    user = owner.add_user("bea")
    assert len(help_desk.add_user_bypass_codes(user["user_id"], count=3, remaining_uses=2)) == 3
    _settings(owner, helpdesk_bypass="limit", helpdesk_bypass_expiration="30")
    for custom in ({"count": 2}, {"codes": ["55667788"]}, {"remaining_uses": 5},
                   {"valid_secs": 600}):
        _refused(lambda custom=custom: help_desk.add_user_bypass_codes(user["user_id"],
                                                                       **custom))
    before = {c["bypass_code_id"] for c in owner.get_user_bypass_codes(user["user_id"])}
    [code] = help_desk.add_user_bypass_codes(user["user_id"])
    listed = owner.get_user_bypass_codes(user["user_id"])
    new = [c for c in listed if c["bypass_code_id"] not in before]
    assert len(code) == 9 and len(new) == 1 and new[0]["reuse_count"] == 1
    assert new[0]["expiration"] - new[0]["created"] == 30 * 60
    _settings(owner, helpdesk_bypass="deny")
    _refused(lambda: help_desk.add_user_bypass_codes(user["user_id"]))
    assert len(owner.get_user_bypass_codes(user["user_id"])) == len(listed)


def test_user_managers_apply_bypass_status_only_when_the_setting_allows(
        owner: duo_client.Admin, redis_url: str, service: ServiceProcess) -> None:
    manager = admin_client(redis_url, service, Role.USER_MANAGER)
    user = owner.add_user("ulf")
    _settings(owner, user_managers_can_put_users_in_bypass="0")
    _refused(lambda: manager.update_user(user["user_id"], status="bypass"))
    assert manager.update_user(user["user_id"], status="disabled")["status"] == "disabled"
    _settings(owner, user_managers_can_put_users_in_bypass="1")
    assert manager.update_user(user["user_id"], status="bypass")["status"] == "bypass"


def test_help_desk_sends_enrollment_emails_only_when_the_setting_allows(
        owner: duo_client.Admin, help_desk: duo_client.Admin) -> None:
    owner.add_user("eve", email="eve@example.org")
    _refused(lambda: help_desk.enroll_user("eve", "eve@example.org"))
    _settings(owner, helpdesk_can_send_enroll_email="1")
    assert help_desk.enroll_user("eve", "eve@example.org")["mailed"] is True
    _refused(lambda: help_desk.enroll_user("new-person", "np@example.org"))


def test_every_refusal_and_every_change_is_in_the_administrator_log(
        owner: duo_client.Admin, redis_url: str, service: ServiceProcess) -> None:
    read_only = admin_client(redis_url, service, Role.READ_ONLY)
    _refused(lambda: read_only.add_user("mallory"))
    owner.add_user("carl")
    log = owner.get_administrator_log(mintime=0)
    denied = [entry for entry in log if entry["action"] == "access_denied"]
    assert [(entry["username"], entry["object"]) for entry in denied] == \
        [("read_only key", "create_users")]
    created = [entry for entry in log if entry["action"] == "user_create"]
    assert [(entry["username"], entry["object"]) for entry in created] == [("owner key", "carl")]
    assert all(set(entry) >= {"timestamp", "username", "action", "object", "description"}
               for entry in log)
