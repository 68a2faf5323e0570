"""The Trash and Import Users pages: send to the Trash from the user's page, see the deletion
date, restore (back Disabled) or delete now, by one or in bulk; a role that may not is refused
before anything changes; import a CSV with a report per row (a dry run changes nothing)."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from authsvc.domain.admin_sessions import actor_of
from authsvc.domain.users import UserChanges
from authsvc.model.roles import Role
from authsvc.model.users import UserStatus
from tests.harness import RedisServer
from tests.panel.conftest import Panel, sign_in
from tests.roles.test_matrix import redis_state

Client = TestClient[Any, Any]


async def test_send_to_the_trash_restore_and_delete_now(panel: Panel, browser: Client) -> None:
    svc = panel.services
    ana = await svc.users.add(UserChanges(username="ana", email="ana@example.org"))
    bob = await svc.users.add(UserChanges(username="bob"))
    owner = await panel.admin("owner@example.org")
    csrf = await sign_in(browser, owner)
    for user in (ana, bob):
        reply = await browser.post(f"/admin/users/{user.user_id}/delete", data={"csrf": csrf},
                                   allow_redirects=False)
        assert reply.status == 303
    page = await (await browser.get("/admin/trash")).text()
    assert "ana" in page and "bob" in page and "Deleted for good on" in page
    user_page = await (await browser.get(f"/admin/users/{ana.user_id}")).text()
    assert 'id="in-trash"' in user_page and 'id="send-to-trash"' not in user_page
    reply = await browser.post(f"/admin/trash/{ana.user_id}/restore", data={"csrf": csrf},
                               allow_redirects=False)
    assert reply.headers["Location"].startswith(f"/admin/users/{ana.user_id}")
    assert (await svc.users.get(ana.user_id)).status is UserStatus.DISABLED
    await browser.post("/admin/trash/bulk", data={"csrf": csrf, "action": "delete",
                                                  "user_id": bob.user_id})
    assert await svc.users.find(bob.user_id) is None
    assert "The Trash is empty." in await (await browser.get("/admin/trash")).text()


async def test_read_only_sees_the_trash_and_may_not_restore(
        panel: Panel, browser: Client, redis_server: RedisServer) -> None:
    svc = panel.services
    ana = await svc.users.add(UserChanges(username="ana"))
    owner = await panel.admin("owner@example.org")
    reader = await panel.admin("ro@example.org", Role.READ_ONLY)
    await svc.admin.users.delete(actor_of(owner.admin), ana.user_id)
    csrf = await sign_in(browser, reader)
    page = await (await browser.get("/admin/trash")).text()
    assert "ana" in page and "/restore" not in page and "trash-apply" not in page
    before = redis_state(redis_server.port)
    for path, fields in ((f"/admin/trash/{ana.user_id}/restore", {}),
                         ("/admin/trash/bulk", {"action": "delete", "user_id": ana.user_id})):
        reply = await browser.post(path, data={"csrf": csrf, **fields})
        assert reply.status == 403
    assert redis_state(redis_server.port) == before


async def test_import_users_reports_every_row(panel: Panel, browser: Client) -> None:
    svc = panel.services
    owner = await panel.admin("owner@example.org")
    csrf = await sign_in(browser, owner)
    rows = "username,realname,email,status\ncarla,Carla Díaz,carla@example.org,active\n" \
           "dan,Dan,not-an-email,active\neve,Eve,eve@example.org,bypass\n"
    dry = await browser.post("/admin/users/import", data={"csrf": csrf, "csv": rows,
                                                          "dry_run": "1"})
    html = await dry.text()
    assert dry.status == 200 and "would create" in html and "email" in html
    assert await svc.users.by_name("carla") is None
    done = await (await browser.post("/admin/users/import", data={"csrf": csrf,
                                                                  "csv": rows})).text()
    assert "2 rows done, 1 refused." in done
    assert (await svc.users.by_name("eve")) is not None and await svc.users.by_name("dan") is None
