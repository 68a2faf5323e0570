"""The Users page's search: a prefix of the username, an alias, the email, the full name or any
word of it; users stored before the index existed are indexed once at start-up; a renamed or
deleted user is found by its new name only."""

from __future__ import annotations

import asyncio

from authsvc.domain.admin.directory import UserQuery
from authsvc.domain.users import UserChanges
from authsvc.model.permissions import SYSTEM
from authsvc.model.users import User
from authsvc.store.records import user_to_hash
from tests.panel.conftest import Panel, sign_in


async def _find(panel: Panel, text: str) -> list[str]:
    found = await panel.services.panel.finder.find(SYSTEM, UserQuery(text=text))
    return [view.user.username for view in found.users]


async def test_search_by_any_name_of_the_user(panel: Panel) -> None:
    svc = panel.services
    user = await svc.users.add(UserChanges(username="narroway", realname="Nora Arroway",
                                           email="nora@example.org",
                                           aliases={1: "narroway@example.org"}))
    await svc.users.add(UserChanges(username="other", realname="Someone Else"))
    for text in ("narr", "NARROWAY@EX", "nora@", "nora arr", "arroway"):
        assert await _find(panel, text) == ["narroway"], text
    await svc.users.update(user.user_id, UserChanges(username="nlewis", realname="Nora Lewis"))
    assert await _find(panel, "arroway") == [] and await _find(panel, "lewis") == ["nlewis"]
    await svc.admin.users.delete(SYSTEM, user.user_id)  # to the Trash: still found there
    assert await _find(panel, "nlew") == ["nlewis"]
    await svc.admin.trash.delete_now(SYSTEM, user.user_id)
    assert await _find(panel, "n") == []
    assert await _find(panel, "some") == ["other"]


async def test_users_stored_before_the_index_are_indexed_once(panel: Panel) -> None:
    store = panel.services.store
    # The app's start-up indexes the (empty) directory in the background: let it finish first,
    # or it may index the user planted below before the test looks (seen on the cluster pass).
    async with asyncio.timeout(10):
        while not await store.user_search.ready():
            await asyncio.sleep(0.01)
    old = User(user_id="DU000000000000000001", username="legacy", created=1, realname="Old Timer")
    flat = [item for pair in user_to_hash(old).items() for item in pair]
    await store.redis.pipeline([("HSET", store.keys.user(old.user_id), *flat),
                                ("ZADD", store.keys.users(), 1, old.user_id)])
    await store.redis.execute("DEL", store.keys.user_search_ready())
    assert await _find(panel, "legacy") == []
    assert await panel.services.panel.finder.rebuild_index() == 1
    assert await _find(panel, "timer") == ["legacy"]
    assert await panel.services.panel.finder.rebuild_index() == 0  # once


async def test_the_users_view_exports_as_csv_without_formulas(panel: Panel) -> None:
    svc = panel.services
    await svc.users.add(UserChanges(username="eve", realname="=HYPERLINK(\"x\")",
                                    email="eve@example.org"))
    await svc.users.add(UserChanges(username="bob", realname="Bob"))
    owner = await panel.admin("owner@example.org")
    client = panel.clients[0]
    await sign_in(client, owner)
    every = await (await client.get("/admin/users.csv")).text()
    assert every.splitlines()[0].startswith("username,full name,email")
    assert "eve,\"'=HYPERLINK(\"\"x\"\")\",eve@example.org" in every and "\nbob," in every
    found = await (await client.get("/admin/users.csv?q=bo")).text()
    assert len(found.splitlines()) == 2 and "\nbob," in found
