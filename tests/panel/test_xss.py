"""Every user-controlled field (username, full name, notes, alias, ...) is escaped on every page
that shows it; the pages carry no inline script for an injected value to join (the CSP refuses
inline script anyway; tests/browser checks that nothing runs in a real browser)."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from authsvc.domain.groups import GroupChanges
from authsvc.domain.users import UserChanges
from authsvc.errors import InvalidParameter
from authsvc.model.permissions import SYSTEM
from tests.panel.conftest import Panel, sign_in

Client = TestClient[Any, Any]
HOSTILE = '<img src=x onerror="alert(1)">'
SCRIPT = "<script>alert('notes')</script>"
GROUP = "<b>Contractors</b><script>alert(3)</script>"


async def hostile_user(panel: Panel) -> tuple[str, str, str]:
    """A user with markup in every field the domain lets hold it: (id, username, alias)."""
    svc = panel.services
    username, alias = HOSTILE, '"><svg onload=alert(2)>'
    try:
        user = await svc.users.add(UserChanges(username=username))
    except InvalidParameter:  # names limited to safe characters: the quote is still allowed
        username, alias = "o'hostile", "x'alias"
        user = await svc.users.add(UserChanges(username=username))
    await svc.admin.users.update(SYSTEM, user.user_id, UserChanges(
        realname=SCRIPT, notes=SCRIPT + HOSTILE, email="x@example.org", aliases={1: alias}))
    group = await svc.admin.groups.create(SYSTEM, GroupChanges(name=GROUP, status="bypass"))
    await svc.admin.groups.add_member(SYSTEM, user.user_id, group.group_id)
    return user.user_id, username.lower(), alias.lower()


async def test_markup_in_user_fields_is_shown_as_text_on_every_page(
        panel: Panel, browser: Client) -> None:
    user_id, username, alias = await hostile_user(panel)
    owner = await panel.admin("owner@example.org")
    csrf = await sign_in(browser, owner)
    groups, _ = await panel.services.admin.groups.page(SYSTEM, 0, 10)
    pages = [f"/admin/users/{user_id}", "/admin/users", f"/admin/users?q={username[:3]}",
             f"/admin/users/{user_id}/verify", "/admin/logs/administrator", "/admin/groups",
             f"/admin/groups/{groups[0].group_id}"]
    for path in pages:
        html = await (await browser.get(path)).text()
        for raw in (HOSTILE, SCRIPT, GROUP, '"><svg', "onerror=\"alert"):
            assert raw not in html, (path, raw)
        assert "<script>" not in html.replace('<script src="/static/', "")
    page = await (await browser.get(f"/admin/users/{user_id}")).text()
    assert "&lt;script&gt;alert(&#39;notes&#39;)&lt;/script&gt;" in page
    assert "&lt;b&gt;Contractors&lt;/b&gt;" in page and 'id="group-status"' in page
    assert (username.replace("'", "&#39;").replace('"', "&#34;").replace("<", "&lt;")
            .replace(">", "&gt;")) in page
    assert alias.replace("'", "&#39;").replace('"', "&#34;").replace("<", "&lt;") \
        .replace(">", "&gt;") in page
    report = await browser.post("/admin/users/bulk", data={
        "csrf": csrf, "action": "enrollment", "user_id": user_id})
    assert SCRIPT not in await report.text() and HOSTILE not in await report.text()


async def test_an_administrators_name_is_escaped_too(panel: Panel, browser: Client) -> None:
    owner = await panel.admin("owner@example.org", name="Olive <b onmouseover=x>")
    await sign_in(browser, owner)
    for path in ("/admin", "/admin/admins", f"/admin/admins/{owner.admin.admin_id}"):
        html = await (await browser.get(path)).text()
        assert "<b onmouseover" not in html and "Olive &lt;b onmouseover=x&gt;" in html
