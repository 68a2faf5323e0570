"""Administrative Units in the panel: an administrator restricted to some groups sees only the
users in them (page, search, filter, the user's page), and no account-wide figures; the scope is
read at every request, so a change to their units applies at once."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from authsvc.domain.groups import GroupChanges
from authsvc.domain.units import UnitChanges
from authsvc.domain.users import UserChanges
from authsvc.model.permissions import SYSTEM
from authsvc.model.roles import Role
from authsvc.model.units import MemberKind
from tests.panel.conftest import Panel, sign_in

Client = TestClient[Any, Any]


async def test_a_restricted_help_desk_sees_only_its_units_users(panel: Panel,
                                                                browser: Client) -> None:
    svc = panel.services
    inside = await svc.users.add(UserChanges(username="inga", realname="Inga Inside"))
    outside = await svc.users.add(UserChanges(username="otto", realname="Otto Outside"))
    group = await svc.admin.groups.create(SYSTEM, GroupChanges(name="Lab"))
    await svc.admin.groups.add_member(SYSTEM, inside.user_id, group.group_id)
    helper = await panel.admin("hd@example.org", Role.HELP_DESK)
    unit = await svc.admin.units.create(SYSTEM, UnitChanges(
        name="Lab desk", restrict_by_groups=True,
        members={MemberKind.ADMIN: [helper.admin.admin_id], MemberKind.GROUP: [group.group_id]}))
    await sign_in(browser, helper)
    for path in ("/admin/users", "/admin/users?q=o", "/admin/users?status=active"):
        html = await (await browser.get(path)).text()
        assert "otto" not in html, path
    assert "inga" in await (await browser.get("/admin/users")).text()
    assert (await browser.get(f"/admin/users/{outside.user_id}")).status == 404
    assert (await browser.get(f"/admin/users/{inside.user_id}")).status == 200
    dashboard = await (await browser.get("/admin")).text()
    assert 'id="count-total"' not in dashboard  # account-wide figures are not the unit's
    await svc.admin.units.delete(SYSTEM, unit.admin_unit_id)
    assert "otto" in await (await browser.get("/admin/users")).text()  # at once
