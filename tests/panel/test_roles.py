"""What each role sees and may do in the panel: for every role, an action the permission table
(or a seed-001 condition) forbids is not on its page, and posting it by hand (with a valid
session and CSRF value) answers 403 and changes nothing in Redis (every key but the
administrator log, which records the refusal, is compared before and after)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from authsvc.domain.users import UserChanges
from authsvc.model.permissions import SYSTEM
from authsvc.model.roles import Role
from authsvc.model.users import UserStatus
from tests.harness import RedisServer
from tests.panel.conftest import Panel, sign_in
from tests.roles.test_matrix import redis_state

Client = TestClient[Any, Any]


@dataclass(frozen=True)
class Forbidden:
    """A page the role opens, what must not be on it, and the post it must not get through."""

    role: Role
    page: str
    absent: tuple[str, ...]
    post: str
    fields: dict[str, str]


def _cases(user_id: str, admin_id: str) -> list[Forbidden]:
    user = f"/admin/users/{user_id}"
    return [
        # The Owner may do everything the table lists; the last Owner cannot be demoted.
        Forbidden(Role.ADMINISTRATOR, "/admin/admins", ('action="/admin/admins"',),
                  "/admin/admins", {"email": "x@example.org", "name": "X", "role": "owner"}),
        Forbidden(Role.APPLICATION_MANAGER, user, ('action="' + user + '/edit"',
                                                   'id="send-to-trash"', 'id="add-bypass"'),
                  user + "/edit", {"realname": "Changed"}),
        Forbidden(Role.USER_MANAGER, "/admin/account", ('href="/admin/settings"',),
                  "/admin/settings", {"lockout_threshold": "3"}),
        Forbidden(Role.HELP_DESK, user, ('name="username"', 'name="alias1"',
                                         '<option value="bypass"'),
                  user + "/edit", {"username": "renamed"}),
        Forbidden(Role.BILLING, "/admin/billing", ('href="/admin/users"',),
                  "/admin/users/new", {"username": "newcomer"}),
        Forbidden(Role.READ_ONLY, "/admin/settings", ('id="save-settings"',),
                  user + "/status", {"status": "disabled"}),
    ]


async def _people(panel: Panel) -> tuple[str, str]:
    svc = panel.services
    user = await svc.users.add(UserChanges(username="target", realname="Tess Target",
                                           email="tess@example.org"))
    await svc.admin.users.update(SYSTEM, user.user_id, UserChanges(status="disabled"))
    owner = await panel.admin("owner@example.org")
    return user.user_id, owner.admin.admin_id


@pytest.mark.parametrize("index", range(6))
async def test_a_forbidden_action_is_not_shown_and_a_forged_post_is_refused(
        panel: Panel, browser: Client, redis_server: RedisServer, index: int) -> None:
    user_id, owner_id = await _people(panel)
    case = _cases(user_id, owner_id)[index]
    who = await panel.admin(f"{case.role.value}@example.org", case.role)
    csrf = await sign_in(browser, who)
    reply = await browser.get(case.page)
    html = await reply.text()
    assert reply.status == 200, html
    for marker in case.absent:
        assert marker not in html, (case.role, marker)
    before = redis_state(redis_server.port)
    forged = await browser.post(case.post, data={"csrf": csrf, **case.fields},
                                allow_redirects=False)
    assert forged.status == 403, (case.role, await forged.text())
    assert redis_state(redis_server.port) == before
    denied = [r for r in await panel.services.admin.audit.since(0)
              if r["action"] == "access_denied"]
    assert denied and denied[-1]["username"] == who.admin.email


async def test_the_owner_sees_everything_and_cannot_demote_the_last_owner(
        panel: Panel, browser: Client, redis_server: RedisServer) -> None:
    user_id, owner_id = await _people(panel)
    owner = await panel.admin("olive@example.org")
    await panel.services.admin.admins.delete(SYSTEM, owner_id)
    csrf = await sign_in(browser, owner)
    for path, marker in (("/admin/admins", 'id="add-admin"'), ("/admin/settings",
                                                                'id="save-settings"'),
                         (f"/admin/users/{user_id}", 'id="add-bypass-options"')):
        assert marker in await (await browser.get(path)).text()
    page = await (await browser.get(f"/admin/admins/{owner.admin.admin_id}")).text()
    assert 'id="delete-admin"' not in page  # not offered on one's own account
    before = redis_state(redis_server.port)
    reply = await browser.post(f"/admin/admins/{owner.admin.admin_id}/edit", data={
        "csrf": csrf, "name": "Olive", "role": "read_only"}, allow_redirects=False)
    assert reply.status == 400 and "at least one Owner" in await reply.text()
    assert redis_state(redis_server.port) == before


async def test_help_desk_sees_only_unlock_and_the_limited_bypass_code(
        panel: Panel, browser: Client, redis_server: RedisServer) -> None:
    user_id, _ = await _people(panel)
    svc = panel.services
    await svc.admin.account.update_settings(SYSTEM, {"helpdesk_bypass": "limit"})
    helper = await panel.admin("hd@example.org", Role.HELP_DESK)
    csrf = await sign_in(browser, helper)
    html = await (await browser.get(f"/admin/users/{user_id}")).text()
    assert 'id="unlock"' not in html and '<option value="active">' in html  # disabled -> active
    assert 'id="add-bypass"' in html and 'id="add-bypass-options"' not in html
    assert 'name="realname"' in html and 'name="notes"' in html
    before = redis_state(redis_server.port)
    customised = await browser.post(f"/admin/users/{user_id}/bypass", data={
        "csrf": csrf, "options": "1", "count": "5", "reuse_count": "0", "expiry": "never"})
    assert customised.status == 403 and redis_state(redis_server.port) == before
    made = await browser.post(f"/admin/users/{user_id}/bypass", data={"csrf": csrf})
    assert made.status == 200 and 'class="secret"' in await made.text()
    assert len((await svc.admin.users.bypass_codes(SYSTEM, user_id))[1]) == 1
    reply = await browser.post(f"/admin/users/{user_id}/status", data={
        "csrf": csrf, "status": "active"}, allow_redirects=False)
    assert reply.status == 303
    assert (await svc.users.get(user_id)).status is UserStatus.ACTIVE


async def test_each_role_has_its_sidebar(panel: Panel) -> None:
    expected = {
        Role.OWNER: {"/admin/users", "/admin/admins", "/admin/settings", "/admin/logs/"},
        Role.ADMINISTRATOR: {"/admin/users", "/admin/admins", "/admin/settings"},
        Role.APPLICATION_MANAGER: {"/admin/users", "/admin/logs/"},
        Role.USER_MANAGER: {"/admin/users", "/admin/enrollment", "/admin/logs/"},
        Role.HELP_DESK: {"/admin/users", "/admin/logs/"},
        Role.BILLING: {"/admin/billing"},
        Role.READ_ONLY: {"/admin/users", "/admin/admins", "/admin/settings"},
    }
    hidden = {
        Role.ADMINISTRATOR: {"/admin/billing"}, Role.APPLICATION_MANAGER: {"/admin/settings",
                                                                          "/admin/admins"},
        Role.USER_MANAGER: {"/admin/settings", "/admin/admins"},
        Role.HELP_DESK: {"/admin/enrollment", "/admin/settings", "/admin/admins"},
        Role.BILLING: {"/admin/users", "/admin/logs/", "/admin/settings"},
        Role.READ_ONLY: {"/admin/enrollment", "/admin/billing"},
    }
    for role, links in expected.items():
        who = await panel.admin(f"{role.value}@example.org", role)
        client = await panel.browser()
        await sign_in(client, who)
        nav = (await (await client.get("/admin/account")).text()).split('<nav class="sidebar"')[1]
        nav = nav.split("</nav>")[0]
        for link in links:
            assert f'href="{link}' in nav, (role, link)
        for link in hidden.get(role, set()):
            assert f'href="{link}' not in nav, (role, link)

