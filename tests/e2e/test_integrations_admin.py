"""Integrations through duo_client.Admin, unmodified: create, list, read, modify, delete, fetch
the secret key; what an integration's settings do (grants, enroll_policy, permitted groups)."""

from __future__ import annotations

import time
from typing import Any

import duo_client
import pytest

from tests.conftest import IntegrationPair
from tests.harness import ServiceProcess


def _admin(service: ServiceProcess, ikey: str, skey: str) -> duo_client.Admin:
    return duo_client.Admin(ikey, skey, "127.0.0.1", ca_certs="HTTP", port=service.port)


def _auth(service: ServiceProcess, ikey: str, skey: str) -> duo_client.Auth:
    return duo_client.Auth(ikey, skey, "127.0.0.1", ca_certs="HTTP", port=service.port)


def _forbidden(call: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(RuntimeError, match="403") as caught:
        call(*args, **kwargs)
    assert caught.value.data["code"] == 40301  # type: ignore[attr-defined]
    return str(caught.value)


def _reasons(admin: duo_client.Admin, **filters: Any) -> list[str]:
    now_ms = int(time.time() * 1000)
    logs = admin.get_authentication_log(api_version=2, sort="ts:asc", mintime=now_ms - 60_000,
                                        maxtime=now_ms + 1000, **filters)
    return [record["reason"] for record in logs["authlogs"]]


def test_duo_clients_integration_calls_manage_integrations_and_show_the_skey_only_when_asked(
        admin_api: duo_client.Admin, service: ServiceProcess,
        integrations: IntegrationPair) -> None:
    created = admin_api.create_integration("Payroll", "authapi", notes="HR app",
                                           enroll_policy="deny")
    ikey, skey = created["integration_key"], created["secret_key"]
    assert ikey.startswith("DI") and len(skey) == 40
    assert (created["type"], created["enroll_policy"], created["notes"]) == \
        ("authapi", "deny", "HR app")
    assert created["groups_allowed"] == [] and created["adminapi_write_resource"] == 0
    listed = admin_api.get_integrations()
    assert [i["integration_key"] for i in listed] == \
        [integrations.admin.ikey, integrations.auth.ikey, ikey]
    assert all("secret_key" not in i for i in listed)
    assert admin_api.get_integrations(limit=1, offset=2)[0]["name"] == "Payroll"
    fetched = admin_api.get_integration(ikey)
    assert "secret_key" not in fetched and fetched["name"] == "Payroll"
    assert admin_api.get_secret_key(ikey) == {"secret_key": skey}
    assert _auth(service, ikey, skey).check()["time"] > 0
    updated = admin_api.update_integration(ikey, name="Payroll v2", enroll_policy="allow")
    assert (updated["name"], updated["enroll_policy"]) == ("Payroll v2", "allow")
    assert "secret_key" not in updated
    admin_api.update_integration(ikey, reset_secret_key=1)
    new_skey = admin_api.get_secret_key(ikey)["secret_key"]
    assert new_skey != skey
    with pytest.raises(RuntimeError, match="401"):
        _auth(service, ikey, skey).check()
    assert _auth(service, ikey, new_skey).check()["time"] > 0
    assert admin_api.delete_integration(ikey) == ""
    with pytest.raises(RuntimeError, match="401"):  # at once: the cache entry was dropped
        _auth(service, ikey, new_skey).check()
    with pytest.raises(RuntimeError, match="404"):
        admin_api.get_integration(ikey)


def test_bad_integration_input_is_a_clear_400(admin_api: duo_client.Admin) -> None:
    cases: list[dict[str, Any]] = [
        {"name": "x", "integration_type": "rdp"},
        {"name": "x", "integration_type": "authapi", "enroll_policy": "maybe"},
        {"name": "x", "integration_type": "authapi", "adminapi_write_resource": True},
        {"name": "x", "integration_type": "authapi", "groups_allowed": "DGNOSUCHGROUP0000000"},
        {"name": "x", "integration_type": "adminapi", "ip_whitelist": ["10.0.0.0/8"]},
        {"name": " ", "integration_type": "authapi"},
    ]
    for case in cases:
        with pytest.raises(RuntimeError, match="400"):
            admin_api.create_integration(**case)
    with pytest.raises(RuntimeError, match="400.*trusted_device_days"):
        admin_api.create_integration("x", "authapi", trusted_device_days=3)
    assert len(admin_api.get_integrations()) == 2
    with pytest.raises(RuntimeError, match="404"):
        admin_api.update_integration("DINOSUCHINTEGRATION0", name="y")


def test_an_admin_integration_created_with_grants_can_do_what_they_allow_and_nothing_else(
        admin_api: duo_client.Admin, service: ServiceProcess) -> None:
    admin_api.add_user("kim")
    reader = admin_api.create_integration("reader", "adminapi", adminapi_read_resource=True)
    assert reader["adminapi_read_resource"] == 1 and reader["role"] is None
    client = _admin(service, reader["integration_key"], reader["secret_key"])
    assert [u["username"] for u in client.get_users()] == ["kim"]
    assert client.get_groups() == []
    _forbidden(client.add_user, "lee")
    _forbidden(client.create_group, "g")
    _forbidden(client.get_settings)
    _forbidden(client.get_integrations)
    assert [u["username"] for u in admin_api.get_users()] == ["kim"]
    nothing = admin_api.create_integration("nothing", "adminapi")
    blank = _admin(service, nothing["integration_key"], nothing["secret_key"])
    _forbidden(blank.get_users)
    admin_api.update_integration(nothing["integration_key"], adminapi_write_resource=True,
                                 adminapi_read_resource=True)
    assert blank.add_user("lee")["username"] == "lee"
    admin_api.update_integration(nothing["integration_key"], adminapi_write_resource=False)
    _forbidden(blank.add_user, "max")


def test_no_integration_hands_out_or_reaches_more_than_it_holds(
        admin_api: duo_client.Admin, service: ServiceProcess) -> None:
    manager = admin_api.create_integration("apps", "adminapi", adminapi_integrations=True,
                                           adminapi_read_resource=True)
    apps = _admin(service, manager["integration_key"], manager["secret_key"])
    made = apps.create_integration("web app", "websdk")
    assert made["type"] == "websdk" and apps.get_secret_key(made["integration_key"])
    assert "adminapi_write_resource" in _forbidden(
        apps.create_integration, "escalate", "adminapi", adminapi_write_resource=True)
    sibling = apps.create_integration("log reader", "adminapi", adminapi_read_resource=True)
    _forbidden(apps.update_integration, sibling["integration_key"], adminapi_settings=True)
    owner_key = admin_api.get_integrations()[0]["integration_key"]  # the fixture's Owner key
    _forbidden(apps.get_secret_key, owner_key)
    _forbidden(apps.delete_integration, owner_key)
    assert apps.create_integration("powerless", "adminapi")["adminapi_read_resource"] == 0
    assert len(admin_api.get_integrations()) == 6


def test_an_administrator_role_manages_applications_but_not_admin_api_integrations(
        admin_api: duo_client.Admin, service: ServiceProcess) -> None:
    made = admin_api.json_api_call("POST", "/admin/v3/integrations", {
        "name": "admin in a role", "type": "adminapi", "role": "administrator"})
    assert made["role"] == "administrator" and made["adminapi_write_resource"] == 1
    administrator = _admin(service, made["integration_key"], made["secret_key"])
    assert administrator.create_integration("app", "authapi")["type"] == "authapi"
    assert "owner" in _forbidden(administrator.create_integration, "api", "adminapi")
    _forbidden(administrator.get_secret_key, made["integration_key"])
    with pytest.raises(RuntimeError, match="400"):
        admin_api.json_api_call("POST", "/admin/v3/integrations", {
            "name": "both", "type": "adminapi", "role": "owner", "adminapi_read_log": "1"})


def test_enroll_policy_decides_what_preauth_answers_for_unknown_users(
        admin_api: duo_client.Admin, service: ServiceProcess) -> None:
    answers = {}
    for policy in ("enroll", "allow", "deny"):
        made = admin_api.create_integration(f"app {policy}", "authapi", enroll_policy=policy)
        client = _auth(service, made["integration_key"], made["secret_key"])
        answers[policy] = client.preauth(username="stranger")
    assert answers["enroll"]["result"] == "enroll" and answers["enroll"]["enroll_portal_url"]
    assert answers["allow"]["result"] == "allow"
    assert answers["deny"]["result"] == "deny"
    assert _reasons(admin_api) == ["allow_unenrolled_user", "deny_unenrolled_user"]
    admin_api.add_user("known")  # a known user without devices still gets enrollment
    deny_app = next(i for i in admin_api.get_integrations() if i["name"] == "app deny")
    skey = admin_api.get_secret_key(deny_app["integration_key"])["secret_key"]
    assert _auth(service, deny_app["integration_key"], skey).preauth(
        username="known")["result"] == "enroll"


def test_a_user_outside_the_permitted_groups_is_refused_at_preauth_and_auth(
        admin_api: duo_client.Admin, service: ServiceProcess) -> None:
    staff = admin_api.create_group("staff")
    inside, outside = admin_api.add_user("insider"), admin_api.add_user("outsider")
    admin_api.add_user_group(inside["user_id"], staff["group_id"])
    codes = {user["username"]: admin_api.add_user_bypass_codes(
        user["user_id"], count=1, remaining_uses=0)[0] for user in (inside, outside)}
    made = admin_api.create_integration("staff only", "authapi",
                                        groups_allowed=staff["group_id"])
    assert made["groups_allowed"] == [staff["group_id"]]
    app = _auth(service, made["integration_key"], made["secret_key"])
    assert app.preauth(username="insider")["result"] == "auth"
    assert app.auth("passcode", username="insider", passcode=codes["insider"])["result"] == \
        "allow"
    assert app.preauth(username="outsider")["result"] == "deny"
    answer = app.auth("passcode", username="outsider", passcode=codes["outsider"])
    assert (answer["result"], answer["status"]) == ("deny", "deny")
    assert app.preauth(username="nobody-known")["result"] == "deny"
    assert _reasons(admin_api, users=[outside["user_id"]]) == \
        ["user_not_in_permitted_group", "user_not_in_permitted_group"]
    admin_api.delete_user_group(inside["user_id"], staff["group_id"])
    assert app.auth("passcode", username="insider", passcode=codes["insider"])["result"] == \
        "deny"
    admin_api.update_integration(made["integration_key"], groups_allowed="")
    assert app.auth("passcode", username="outsider", passcode=codes["outsider"])["result"] == \
        "allow"
