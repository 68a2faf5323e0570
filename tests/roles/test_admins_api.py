"""Administrators as people, through duo_client's own methods and the CLI: created pending
with a one-time setup link, changed and deleted by Owners only, never leaving the account
without an Owner, every change in the administrator log."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from authsvc.model.roles import Role
from tests.e2e.carrier_helpers import carrier_of
from tests.harness import ServiceProcess
from tests.roles.test_matrix import admin_client

pytestmark = pytest.mark.slow


def test_the_cli_makes_the_first_owner_with_a_one_time_setup_link(
        redis_url: str, service: ServiceProcess) -> None:
    env = {**service.env, "AUTHSVC_REDIS_URL": redis_url}
    result = subprocess.run(
        [sys.executable, "-m", "authsvc", "admin", "create", "--email", "olive@example.org",
         "--name", "Olive Owner", "--role", "owner"],
        capture_output=True, text=True, env=env, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    created = json.loads(result.stdout)
    assert created["role"] == "Owner" and created["email"] == "olive@example.org"
    assert "/admin/setup/" in created["setup_link"] and created["expires"] > 0
    owner = admin_client(redis_url, service, Role.OWNER)
    [listed] = owner.get_admins()
    assert (listed["admin_id"], listed["status"], listed["role"]) == \
        (created["admin_id"], "Pending Activation", "Owner")
    assert created["setup_link"].rsplit("/", 1)[1] not in json.dumps(listed)
    bad = subprocess.run([sys.executable, "-m", "authsvc", "admin", "create", "--email",
                          "x@example.org", "--name", "X", "--role", "wizard"],
                         capture_output=True, text=True, env=env, timeout=60, check=False)
    assert bad.returncode == 1 and "role" in bad.stderr and not bad.stdout


def test_owners_manage_administrators_with_duo_client_and_the_last_owner_stays(
        redis_url: str, service: ServiceProcess) -> None:
    api = admin_client(redis_url, service, Role.OWNER)
    owner = api.add_admin("Olive", "olive@example.org", None, None, role="Owner")
    hal = api.add_admin("Hal", "hal@example.org", "+15555550100", None, role="Help Desk")
    assert (hal["role"], hal["status"], hal["phone"]) == \
        ("Help Desk", "Pending Activation", "+15555550100")
    assert api.update_admin(hal["admin_id"], role="User Manager")["role"] == "User Manager"
    assert api.reset_admin(hal["admin_id"])["admin_id"] == hal["admin_id"]
    for last_owner_change in ({"role": "Billing"}, {"status": "Disabled"}):
        with pytest.raises(RuntimeError, match="400"):
            api.update_admin(owner["admin_id"], **last_owner_change)
    with pytest.raises(RuntimeError, match="400"):
        api.delete_admin(owner["admin_id"])
    activation = api.activate_admin("ann@example.org", send_email=False, admin_role="Billing")
    assert activation["admin_role"] == "Billing" and "/admin/setup/" in activation["link"]
    api.delete_admin(hal["admin_id"])
    assert {admin["email"] for admin in api.get_admins()} == \
        {"olive@example.org", "ann@example.org"}
    actions = [entry["action"] for entry in api.get_administrator_log(mintime=0)]
    assert actions.count("admin_create") == 3 and "admin_delete" in actions
    assert actions.count("admin_update") >= 2


def test_a_new_administrator_is_mailed_the_setup_link(
        redis_url: str, service: ServiceProcess) -> None:
    api = admin_client(redis_url, service, Role.OWNER)
    api.add_admin("Pat", "pat@example.org", None, None, role="Read-only")
    carrier = carrier_of(service)
    [mail] = carrier.messages("email", "pat@example.org")
    assert "/admin/setup/" in mail["body"]
