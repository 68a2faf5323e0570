"""Groups (seed 001, "Using Groups" and "Assigning User Status with Groups"): list, create,
a group's page (name, description, status, factor switches, members), delete; and a user's
groups from the user's page."""

from __future__ import annotations

from aiohttp import web

from authsvc.domain.admin.users import UserLookup
from authsvc.domain.groups import GroupChanges
from authsvc.errors import InvalidParameter
from authsvc.http.middleware import services
from authsvc.http.panel.common import Form, actor, form, page, see_other, text
from authsvc.model.groups import SWITCHES, GroupStatus

GROUP = "/admin/groups/{group_id:D[A-Z0-9]{1,40}}"
USER = "/admin/users/{user_id:D[A-Z0-9]{1,40}}"
MEMBERS_PAGE = 100
SWITCH_LABELS = {"push_enabled": "Duo Push", "sms_enabled": "SMS passcodes",
                 "voice_enabled": "Phone calls", "mobile_otp_enabled": "Duo Mobile passcodes",
                 "u2f_enabled": "Security keys (WebAuthn, U2F)"}


def _changes(fields: Form, with_switches: bool) -> GroupChanges:
    status = text(fields, "status", max_length=20) or None
    if status is not None and status not in {s.value for s in GroupStatus}:
        raise InvalidParameter("status")
    switches = {name: "1" in fields.getall(name) for name in SWITCHES} if with_switches else {}
    return GroupChanges(name=text(fields, "name", max_length=200),
                        desc=text(fields, "desc", max_length=1024), status=status,
                        switches=switches)


async def groups(request: web.Request) -> web.Response:
    """GET /admin/groups: every group."""
    found, total = await services(request).admin.groups.page(actor(request), 0, 500)
    return page(request, "panel/groups.html", title="Groups", section="groups", groups=found,
                total=total, statuses=[s.value for s in GroupStatus])


async def create(request: web.Request) -> web.Response:
    """POST /admin/groups: a new group (then its page)."""
    group = await services(request).admin.groups.create(actor(request),
                                                        _changes(await form(request), False))
    raise see_other(f"/admin/groups/{group.group_id}", "created")


async def group(request: web.Request) -> web.Response:
    """GET /admin/groups/{group_id}: the group and its members."""
    svc, who, group_id = services(request), actor(request), request.match_info["group_id"]
    found = await svc.admin.groups.get(who, group_id)
    members, count = await svc.admin.groups.members(who, group_id, 0, MEMBERS_PAGE)
    return page(request, "panel/group.html", title=found.name, section="groups", group=found,
                members=members, count=count, statuses=[s.value for s in GroupStatus],
                switches=SWITCH_LABELS)


async def update(request: web.Request) -> web.Response:
    """POST /admin/groups/{group_id}/edit: name, description, status, switches."""
    await services(request).admin.groups.update(actor(request), request.match_info["group_id"],
                                                _changes(await form(request), True))
    raise see_other(f"/admin/groups/{request.match_info['group_id']}", "saved")


async def delete(request: web.Request) -> web.Response:
    """POST /admin/groups/{group_id}/delete: the group goes; its members stay."""
    await services(request).admin.groups.delete(actor(request), request.match_info["group_id"])
    raise see_other("/admin/groups", "deleted")


async def add_member(request: web.Request) -> web.Response:
    """POST /admin/groups/{group_id}/members: put a user (by name) in the group."""
    svc, who = services(request), actor(request)
    username = text(await form(request), "username", max_length=300)
    found = await svc.admin.users.lookup(who, UserLookup(username=username))
    if not found:
        raise InvalidParameter("username (no such user)")
    await svc.admin.groups.add_member(who, found[0].user.user_id, request.match_info["group_id"])
    raise see_other(f"/admin/groups/{request.match_info['group_id']}", "attached")


async def remove_member(request: web.Request) -> web.Response:
    """POST /admin/groups/{group_id}/members/{user_id}/remove."""
    await services(request).admin.groups.remove_member(
        actor(request), request.match_info["user_id"], request.match_info["group_id"])
    raise see_other(f"/admin/groups/{request.match_info['group_id']}", "removed")


async def user_join(request: web.Request) -> web.Response:
    """POST /admin/users/{user_id}/groups: put the user in a group (chosen from the list)."""
    group_id = text(await form(request), "group_id", max_length=40)
    await services(request).admin.groups.add_member(actor(request),
                                                    request.match_info["user_id"], group_id)
    raise see_other(f"/admin/users/{request.match_info['user_id']}#groups", "attached")


async def user_leave(request: web.Request) -> web.Response:
    """POST /admin/users/{user_id}/groups/{group_id}/remove."""
    await services(request).admin.groups.remove_member(
        actor(request), request.match_info["user_id"], request.match_info["group_id"])
    raise see_other(f"/admin/users/{request.match_info['user_id']}#groups", "removed")


def setup_routes(app: web.Application) -> None:
    router = app.router
    router.add_get("/admin/groups", groups)
    router.add_post("/admin/groups", create)
    router.add_get(GROUP, group)
    router.add_post(GROUP + "/edit", update)
    router.add_post(GROUP + "/delete", delete)
    router.add_post(GROUP + "/members", add_member)
    router.add_post(GROUP + "/members/{user_id}/remove", remove_member)
    router.add_post(USER + "/groups", user_join)
    router.add_post(USER + "/groups/{group_id}/remove", user_leave)
