"""Administrative Units through duo_client against the service process: `get_administrative_units`
(with its filters and paging) and the other calls through `json_api_call`, bad input answered
in Duo's envelope, members leaving units when they are deleted, every change in the
administrator log."""

from __future__ import annotations

import json
from typing import Any

import duo_client
import pytest

from authsvc.model.roles import Role
from tests.harness import ServiceProcess
from tests.roles.test_matrix import admin_client

pytestmark = pytest.mark.slow
UNITS = "/admin/v1/administrative_units"


def _unit(api: duo_client.Admin, **params: Any) -> dict[str, Any]:
    made: dict[str, Any] = api.json_api_call("POST", UNITS, params)
    return made


def _refused(api: duo_client.Admin, method: str, path: str,
             params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response, data = api.api_call(method, path, params)
    return response.status, json.loads(data)


@pytest.fixture
def owner(redis_url: str, service: ServiceProcess) -> duo_client.Admin:
    return admin_client(redis_url, service, Role.OWNER)


def _people(api: duo_client.Admin) -> dict[str, str]:
    hal = api.add_admin("Hal", "hal@example.org", None, None, role="Help Desk")
    una = api.add_admin("Una", "una@example.org", None, None, role="User Manager")
    olive = api.add_admin("Olive", "olive@example.org", None, None, role="Owner")
    app = api.json_api_call("POST", "/admin/v3/integrations", {"name": "VPN", "type": "authapi"})
    return {"hal": hal["admin_id"], "una": una["admin_id"], "olive": olive["admin_id"],
            "north": api.create_group("North")["group_id"],
            "south": api.create_group("South")["group_id"], "vpn": app["integration_key"]}


def test_owners_create_read_change_and_delete_units_with_duo_client(
        owner: duo_client.Admin) -> None:
    ids = _people(owner)
    north = _unit(owner, name="North office", description="Northern branch",
                  restrict_by_groups="true", restrict_by_integrations="true",
                  admins=ids["hal"], groups=ids["north"], integrations=ids["vpn"])
    assert north == {"admin_unit_id": north["admin_unit_id"], "name": "North office",
                     "description": "Northern branch", "restrict_by_groups": True,
                     "restrict_by_integrations": True, "admins": [ids["hal"]],
                     "groups": [ids["north"]], "integrations": [ids["vpn"]]}
    south = _unit(owner, name="South office", restrict_by_groups="1",
                  admins=f"{ids['hal']},{ids['una']}", groups=ids["south"])
    listed = owner.get_administrative_units()
    assert [unit["name"] for unit in listed] == ["North office", "South office"]
    assert "admins" not in listed[0] and listed[1]["restrict_by_integrations"] is False
    by = owner.get_administrative_units
    assert [u["name"] for u in by(admin_id=ids["una"])] == ["South office"]
    assert [u["name"] for u in by(admin_id=ids["hal"])] == ["North office", "South office"]
    assert [u["name"] for u in by(group_id=ids["north"])] == ["North office"]
    assert [u["name"] for u in by(integration_key=ids["vpn"])] == ["North office"]
    assert by(admin_id=ids["olive"]) == []
    page = owner.json_api_call("GET", UNITS, {"limit": "1", "offset": "1"})
    assert [u["name"] for u in page] == ["South office"]
    assert [u["name"] for u in by(limit=1, offset=0)] == ["North office"]

    path = f"{UNITS}/{south['admin_unit_id']}"
    changed = owner.json_api_call("POST", path, {"name": "South HQ", "description": "Moved",
                                                 "groups": f"{ids['south']},{ids['north']}"})
    assert (changed["name"], changed["description"], sorted(changed["groups"])) == \
        ("South HQ", "Moved", sorted([ids["south"], ids["north"]]))
    assert changed["admins"] == sorted([ids["hal"], ids["una"]])
    assert owner.json_api_call("GET", path, {}) == changed
    owner.json_api_call("DELETE", path, {})
    assert [u["name"] for u in owner.get_administrative_units()] == ["North office"]
    status, body = _refused(owner, "GET", path, {})
    assert (status, body["code"]) == (404, 40401)
    # The name is free again.
    assert _unit(owner, name="south hq")["name"] == "south hq"


def test_membership_paths_add_and_remove_admins_groups_and_integrations(
        owner: duo_client.Admin) -> None:
    ids = _people(owner)
    unit = _unit(owner, name="Lab", restrict_by_groups="true")
    base = f"{UNITS}/{unit['admin_unit_id']}"
    for kind, member in (("admin", ids["una"]), ("group", ids["north"]),
                         ("integration", ids["vpn"])):
        assert owner.json_api_call("POST", f"{base}/{kind}/{member}", {}) == ""
        assert owner.json_api_call("POST", f"{base}/{kind}/{member}", {}) == ""  # idempotent
    got = owner.json_api_call("GET", base, {})
    assert (got["admins"], got["groups"], got["integrations"]) == \
        ([ids["una"]], [ids["north"]], [ids["vpn"]])
    owner.json_api_call("DELETE", f"{base}/group/{ids['north']}", {})
    owner.json_api_call("DELETE", f"{base}/group/{ids['north']}", {})  # not in it: still 200
    assert owner.json_api_call("GET", base, {})["groups"] == []
    for kind, unknown in (("admin", "DENOSUCH"), ("group", "DGNOSUCH"),
                          ("integration", "DINOSUCH")):
        status, body = _refused(owner, "POST", f"{base}/{kind}/{unknown}", {})
        assert (status, body["code"]) == (404, 40401), body
    status, body = _refused(owner, "POST", f"{UNITS}/DANOSUCH/admin/{ids['una']}", {})
    assert (status, body["code"], body["message_detail"]) == (404, 40401, "admin_unit_id")
    status, body = _refused(owner, "POST", f"{base}/admin/{ids['olive']}", {})
    assert (status, body["code"]) == (400, 40002) and "Owner" in body["message_detail"]


def test_bad_input_is_a_400_naming_the_parameter_and_changes_nothing(
        owner: duo_client.Admin) -> None:
    ids = _people(owner)
    _unit(owner, name="Taken")
    bad: list[tuple[dict[str, str], str]] = [
        ({}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "Taken"}, "name"),
        ({"name": "TAKEN"}, "name"),
        ({"name": "x" * 300}, "name"),
        ({"name": "Ok", "restrict_by_groups": "maybe"}, "restrict_by_groups"),
        ({"name": "Ok", "restrict_by_integrations": "2"}, "restrict_by_integrations"),
        ({"name": "Ok", "groups": "DGNOSUCH"}, "groups"),
        ({"name": "Ok", "integrations": "DINOSUCH"}, "integrations"),
        ({"name": "Ok", "admins": "DENOSUCH"}, "admins"),
        ({"name": "Ok", "admins": ids["olive"]}, "admins"),
        ({"name": "Ok", "description": "d" * 2000}, "description"),
    ]
    for params, param in bad:
        status, body = _refused(owner, "POST", UNITS, params)
        assert status == 400 and body["stat"] == "FAIL", (params, body)
        assert body["message_detail"].startswith(param), (params, body)
    assert [unit["name"] for unit in owner.get_administrative_units()] == ["Taken"]
    status, body = _refused(owner, "GET", UNITS, {"admin_id": ids["hal"],
                                                   "group_id": ids["north"]})
    assert status == 400 and "at most one" in body["message_detail"]
    status, body = _refused(owner, "POST", f"{UNITS}/DANOSUCH", {"name": "Ghost"})
    assert (status, body["code"]) == (404, 40401)
    status, body = _refused(owner, "DELETE", f"{UNITS}/DANOSUCH", {})
    assert (status, body["code"]) == (404, 40401)


def test_deleted_admins_groups_and_integrations_leave_their_units(
        owner: duo_client.Admin) -> None:
    ids = _people(owner)
    unit = _unit(owner, name="Everything", restrict_by_groups="true",
                 restrict_by_integrations="true", admins=ids["hal"], groups=ids["north"],
                 integrations=ids["vpn"])
    owner.delete_admin(ids["hal"])
    owner.delete_group(ids["north"])
    owner.json_api_call("DELETE", f"/admin/v3/integrations/{ids['vpn']}", {})
    got = owner.json_api_call("GET", f"{UNITS}/{unit['admin_unit_id']}", {})
    assert (got["admins"], got["groups"], got["integrations"]) == ([], [], [])


def test_every_unit_change_is_in_the_administrator_log_and_others_may_only_read(
        redis_url: str, service: ServiceProcess, owner: duo_client.Admin) -> None:
    ids = _people(owner)
    unit = _unit(owner, name="Audit", admins=ids["una"])
    base = f"{UNITS}/{unit['admin_unit_id']}"
    owner.json_api_call("POST", base, {"description": "Checked"})
    owner.json_api_call("POST", f"{base}/group/{ids['south']}", {})
    owner.json_api_call("DELETE", base, {})
    actions = [(entry["action"], entry["object"]) for entry in owner.get_administrator_log()
               if entry["action"].startswith("admin_unit")]
    assert actions == [("admin_unit_create", "Audit"), ("admin_unit_update", "Audit"),
                       ("admin_unit_update", "Audit"), ("admin_unit_delete", "Audit")]
    administrator = admin_client(redis_url, service, Role.ADMINISTRATOR)
    kept = _unit(owner, name="Kept")
    assert [u["name"] for u in administrator.get_administrative_units()] == ["Kept"]
    status, body = _refused(administrator, "POST", f"{UNITS}/{kept['admin_unit_id']}",
                            {"name": "Mine"})
    assert (status, body["code"]) == (403, 40301)
    assert owner.json_api_call("GET", f"{UNITS}/{kept['admin_unit_id']}", {})["name"] == "Kept"


def test_admin_objects_name_their_units_and_whether_they_are_restricted(
        owner: duo_client.Admin) -> None:
    ids = _people(owner)
    unit = _unit(owner, name="Desk", restrict_by_groups="true", admins=ids["hal"])
    hal = owner.get_admin(ids["hal"])
    assert (hal["admin_units"], hal["restricted_by_admin_units"]) == \
        ([unit["admin_unit_id"]], True)
    listed = {admin["admin_id"]: admin for admin in owner.get_admins()}
    assert listed[ids["una"]]["admin_units"] == []
    assert listed[ids["una"]]["restricted_by_admin_units"] is False
    assert listed[ids["hal"]]["admin_units"] == [unit["admin_unit_id"]]
