"""Admin API handlers (authsvc extensions, docs/api.md) for the Trash, the Users page counts and
Duo's `info/summary`. Mounted before ``/admin/v1/users/{user_id}``, which would otherwise take
``/admin/v1/users/counts`` for a user id."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aiohttp import web

from authsvc.domain.trash import TrashEntry
from authsvc.http.envelope import ok
from authsvc.http.middleware import actor, params, services
from authsvc.http.render import paging, user_json

TRASH_MAX_LIMIT = 300
TRASH_DEFAULT_LIMIT = 100


def trash_json(entry: TrashEntry) -> dict[str, Any]:
    """A user in the Trash: the Admin API user object (status "pending deletion") with when it
    was sent there, why, and when it will be deleted for good."""
    return {**user_json(entry.view), "trashed_at": entry.deleted_at,
            "permanent_deletion_at": entry.purge_at, "trash_reason": entry.reason}


async def list_trash(request: web.Request) -> web.Response:
    """GET /admin/v1/trash: users in the Trash, paged like get_users."""
    offset, limit = params(request).paging(default_limit=TRASH_DEFAULT_LIMIT,
                                           max_limit=TRASH_MAX_LIMIT)
    entries, total = await services(request).admin.trash.page(actor(request), offset, limit)
    return ok([trash_json(entry) for entry in entries], paging(offset, limit, total))


async def restore(request: web.Request) -> web.Response:
    """POST /admin/v1/trash/{user_id}/restore: the restored user (Disabled, devices kept)."""
    view = await services(request).admin.trash.restore(actor(request),
                                                       request.match_info["user_id"])
    return ok(user_json(view))


async def delete_now(request: web.Request) -> web.Response:
    """DELETE /admin/v1/trash/{user_id}: delete a user in the Trash for good."""
    await services(request).admin.trash.delete_now(actor(request), request.match_info["user_id"])
    return ok("")


async def user_counts(request: web.Request) -> web.Response:
    """GET /admin/v1/users/counts: the counts at the top of the Users page."""
    return ok(asdict(await services(request).admin.trash.counts(actor(request))))


async def info_summary(request: web.Request) -> web.Response:
    """GET /admin/v1/info/summary (duo_client `get_info_summary`)."""
    return ok(await services(request).admin.trash.summary(actor(request)))


def setup_routes(app: web.Application) -> None:
    """Mount the Trash, counts and summary part of the Admin API."""
    router = app.router
    router.add_get("/admin/v1/trash", list_trash)
    router.add_post("/admin/v1/trash/{user_id}/restore", restore)
    router.add_delete("/admin/v1/trash/{user_id}", delete_now)
    router.add_get("/admin/v1/users/counts", user_counts)
    router.add_get("/admin/v1/info/summary", info_summary)
