"""Admin API group handlers: groups, their members, a user's groups (every call checked and
logged by `domain/admin/groups.py`)."""

from __future__ import annotations

import json

from aiohttp import web

from authsvc.domain.groups import GroupChanges
from authsvc.errors import InvalidParameter
from authsvc.http.envelope import ok
from authsvc.http.middleware import actor, params, services
from authsvc.http.params import Params
from authsvc.http.render import group_json, paging
from authsvc.model.groups import SWITCHES

GROUPS_MAX_LIMIT = 100
MEMBERS_MAX_LIMIT = 500
DEFAULT_LIMIT = 100
LOOKUP_MAX = 100


def _changes(args: Params) -> GroupChanges:
    return GroupChanges(
        name=args.text("name", max_length=1000), desc=args.text("desc", max_length=5000),
        status=args.text("status", max_length=20),
        switches={switch: args.flag(switch) for switch in SWITCHES
                  if args.raw(switch) is not None})


def _group_ids(args: Params) -> list[str] | None:
    raw = args.text("group_id_list", max_length=100_000)
    if raw is None:
        return None
    try:
        wanted = json.loads(raw)
    except (ValueError, RecursionError):
        raise InvalidParameter("group_id_list") from None
    if not isinstance(wanted, list) or len(wanted) > LOOKUP_MAX:
        raise InvalidParameter(f"group_id_list (a JSON list of at most {LOOKUP_MAX})")
    return [str(item) for item in wanted]


async def list_groups(request: web.Request) -> web.Response:
    """GET /admin/v1/groups (paged; or by group_id_list)."""
    admin, args = services(request).admin.groups, params(request)
    wanted = _group_ids(args)
    if wanted is not None:
        return ok([group_json(group) for group in await admin.lookup(actor(request), wanted)])
    offset, limit = args.paging(default_limit=DEFAULT_LIMIT, max_limit=GROUPS_MAX_LIMIT)
    groups, total = await admin.page(actor(request), offset, limit)
    return ok([group_json(group) for group in groups], paging(offset, limit, total))


async def create_group(request: web.Request) -> web.Response:
    """POST /admin/v1/groups."""
    group = await services(request).admin.groups.create(actor(request),
                                                        _changes(params(request)))
    return ok(group_json(group))


async def get_group(request: web.Request) -> web.Response:
    """GET /admin/v1/groups/{group_id} and /admin/v2/groups/{group_id} (the same object)."""
    group = await services(request).admin.groups.get(actor(request),
                                                     request.match_info["group_id"])
    return ok(group_json(group))


async def modify_group(request: web.Request) -> web.Response:
    """POST /admin/v1/groups/{group_id}."""
    group = await services(request).admin.groups.update(
        actor(request), request.match_info["group_id"], _changes(params(request)))
    return ok(group_json(group))


async def delete_group(request: web.Request) -> web.Response:
    """DELETE /admin/v1/groups/{group_id} (200 even if already gone)."""
    await services(request).admin.groups.delete(actor(request), request.match_info["group_id"])
    return ok("")


async def group_users(request: web.Request) -> web.Response:
    """GET /admin/v2/groups/{group_id}/users (paged, at most 500 a page)."""
    args = params(request)
    offset, limit = args.paging(default_limit=DEFAULT_LIMIT, max_limit=MEMBERS_MAX_LIMIT)
    rows, total = await services(request).admin.groups.members(
        actor(request), request.match_info["group_id"], offset, limit)
    return ok([{"user_id": user_id, "username": username} for user_id, username in rows],
              paging(offset, limit, total))


async def user_groups(request: web.Request) -> web.Response:
    """GET /admin/v1/users/{user_id}/groups (paged)."""
    args = params(request)
    groups = await services(request).admin.groups.of_user(actor(request),
                                                          request.match_info["user_id"])
    offset, limit = args.paging(default_limit=DEFAULT_LIMIT, max_limit=MEMBERS_MAX_LIMIT)
    return ok([group_json(group) for group in groups[offset:offset + limit]],
              paging(offset, limit, len(groups)))


async def add_user_group(request: web.Request) -> web.Response:
    """POST /admin/v1/users/{user_id}/groups (group_id)."""
    group_id = params(request).required_text("group_id", max_length=64)
    await services(request).admin.groups.add_member(actor(request),
                                                    request.match_info["user_id"], group_id)
    return ok("")


async def delete_user_group(request: web.Request) -> web.Response:
    """DELETE /admin/v1/users/{user_id}/groups/{group_id}."""
    match = request.match_info
    await services(request).admin.groups.remove_member(actor(request), match["user_id"],
                                                       match["group_id"])
    return ok("")


def setup_routes(app: web.Application) -> None:
    """Mount the group part of the Admin API."""
    router = app.router
    router.add_get("/admin/v1/groups", list_groups)
    router.add_post("/admin/v1/groups", create_group)
    router.add_get("/admin/v1/groups/{group_id}", get_group)
    router.add_get("/admin/v2/groups/{group_id}", get_group)
    router.add_post("/admin/v1/groups/{group_id}", modify_group)
    router.add_delete("/admin/v1/groups/{group_id}", delete_group)
    router.add_get("/admin/v2/groups/{group_id}/users", group_users)
    router.add_get("/admin/v1/users/{user_id}/groups", user_groups)
    router.add_post("/admin/v1/users/{user_id}/groups", add_user_group)
    router.add_delete("/admin/v1/users/{user_id}/groups/{group_id}", delete_user_group)
