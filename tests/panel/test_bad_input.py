"""Bad input to the panel is a 4xx page, never a 500 (and never a traceback)."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from tests.panel.conftest import Panel, sign_in

Client = TestClient[Any, Any]
GETS = ["/admin/users?offset=abc", "/admin/users?limit=7", "/admin/users?status=weird",
        "/admin/users/DUNOSUCHUSER0000000", "/admin/users/nope",
        "/admin/phones/DPNOSUCHPHONE000000", "/admin/tokens/DHNOSUCHTOKEN000000",
        "/admin/groups/DGNOSUCHGROUP000000", "/admin/applications/DINOSUCHAPP0000000",
        "/admin/admins/DENOSUCHADMIN000000", "/admin/logs/authentication?hours=5",
        "/admin/logs/authentication?after=x-y", "/admin/logs/authentication?result=maybe",
        "/admin/users/DUNOSUCHUSER0000000/verify/nope", "/admin/phones?offset=-1"]
POSTS = [("/admin/users/bulk", {"action": "trash"}), ("/admin/users/bulk", {"action": "x"}),
         ("/admin/users/new", {"username": ""}), ("/admin/users/new", {"username": "a" * 400}),
         ("/admin/groups", {"name": "g", "status": "weird"}), ("/admin/groups", {"name": ""}),
         ("/admin/settings", {"lockout_threshold": "abc"}),
         ("/admin/settings", {"lockout_threshold": "0"}),
         ("/admin/admins", {"email": "x", "name": "X", "role": "owner"}),
         ("/admin/admins", {"email": "x@example.org", "name": "X", "role": "emperor"}),
         ("/admin/applications", {"name": "A", "type": "martian"}),
         ("/admin/tokens/import", {"type": "h6", "csv": ""}),
         ("/admin/enrollment/bulk", {"csv": "no email here"}),
         ("/admin/phones/DPNOSUCHPHONE000000/activate", {"hours": "abc"}),
         ("/admin/users/DUNOSUCHUSER0000000/edit", {"realname": "x"})]


async def test_bad_requests_get_a_4xx_page(panel: Panel, browser: Client) -> None:
    owner = await panel.admin("owner@example.org")
    csrf = await sign_in(browser, owner)
    for path in GETS:
        reply = await browser.get(path)
        assert 400 <= reply.status < 500, (path, reply.status)
        assert "Traceback" not in await reply.text()
    for path, fields in POSTS:
        reply = await browser.post(path, data={"csrf": csrf, **fields})
        assert 400 <= reply.status < 500, (path, fields, reply.status)
        assert "text/html" in reply.headers["Content-Type"]
