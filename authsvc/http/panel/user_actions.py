"""What the user's page changes (seed 001): details and aliases, status, send to the Trash,
bypass codes (shown once), enrollment emails. Each is one facade call with the administrator
as actor; only the fields that differ from the user's are sent, so a Help Desk admin saving the
form asks for nothing it may not do."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from authsvc.domain.bypass import BypassRequest
from authsvc.domain.users import UserChanges
from authsvc.errors import InvalidParameter
from authsvc.http.middleware import services
from authsvc.http.panel.common import Form, actor, form, integer, page, see_other, text
from authsvc.model.users import MAX_ALIASES, User

PROFILE = ("realname", "email", "notes")
BASE = "/admin/users/{user_id:D[A-Z0-9]{1,40}}"


def _url(request: web.Request) -> str:
    return f"/admin/users/{request.match_info['user_id']}"


def changes_from(fields: Form, user: User) -> UserChanges:
    """The fields of the form that differ from the user's (nothing else is asked for)."""
    values: dict[str, Any] = {}
    if "username" in fields and text(fields, "username", max_length=300).strip().lower() \
            != user.username:
        values["username"] = text(fields, "username", max_length=300)
    for name in PROFILE:
        if name in fields and text(fields, name) != getattr(user, name):
            values[name] = text(fields, name)
    aliases = {slot: text(fields, f"alias{slot}", max_length=300).strip().lower()
               for slot in range(1, MAX_ALIASES + 1) if f"alias{slot}" in fields}
    changed = {slot: name for slot, name in aliases.items()
               if name != user.aliases.get(slot, "")}
    return UserChanges(**values, aliases=changed)


async def edit(request: web.Request) -> web.Response:
    """POST /admin/users/{user_id}/edit: details and aliases."""
    svc, who = services(request), actor(request)
    view = await svc.admin.users.get(who, request.match_info["user_id"])
    changes = changes_from(await form(request), view.user)
    if changes != UserChanges():
        await svc.admin.users.update(who, view.user.user_id, changes)
    raise see_other(_url(request), "saved")


async def status(request: web.Request) -> web.Response:
    """POST /admin/users/{user_id}/status: a new status (Unlock = active)."""
    fields = await form(request)
    await services(request).admin.users.update(
        actor(request), request.match_info["user_id"],
        UserChanges(status=text(fields, "status", max_length=20)))
    raise see_other(_url(request), "status")


async def delete(request: web.Request) -> web.Response:
    """POST /admin/users/{user_id}/delete: the user goes (to the Trash once it exists)."""
    await services(request).admin.users.delete(actor(request), request.match_info["user_id"])
    raise see_other("/admin/users", "trashed")


def bypass_request(fields: Form, policy: str) -> BypassRequest:
    """Generate Bypass Code: one code with the defaults, or the options (which the domain
    refuses to a Help Desk admin under the ``limit`` setting)."""
    if text(fields, "options", max_length=5) != "1":
        return BypassRequest(count=1, preserve_existing=True) if policy == "allow" \
            else BypassRequest()
    codes = [code.strip() for code in text(fields, "codes", max_length=400).split(",")
             if code.strip()]
    expiry = text(fields, "expiry", max_length=10)
    hours = integer(fields, "hours", 1, 1, 8760)
    return BypassRequest(
        count=None if codes else integer(fields, "count", 1, 1, 10), codes=codes or None,
        reuse_count=integer(fields, "reuse_count", 1, 0, 1000),
        valid_secs=0 if expiry == "never" else hours * 3600, preserve_existing=True)


async def bypass(request: web.Request) -> web.Response:
    """POST /admin/users/{user_id}/bypass: new bypass codes, shown this once."""
    svc, who = services(request), actor(request)
    view = await svc.admin.users.get(who, request.match_info["user_id"])
    abilities = await svc.admin.users.abilities(who, view.user)
    fields = await form(request)
    codes = await svc.admin.users.issue_bypass_codes(
        who, view.user.user_id, bypass_request(fields, abilities.bypass))
    return page(request, "panel/bypass_codes_new.html", title="Bypass codes", section="users",
                view=view, codes=codes)


async def delete_bypass(request: web.Request) -> web.Response:
    """POST /admin/users/{user_id}/bypass/{code_id}/delete."""
    await services(request).admin.devices.delete_bypass_code(actor(request),
                                                             request.match_info["code_id"])
    raise see_other(_url(request) + "#bypass", "deleted")


async def enrollment(request: web.Request) -> web.Response:
    """POST /admin/users/{user_id}/enrollment: send (or resend) the enrollment email."""
    svc, who = services(request), actor(request)
    view = await svc.admin.users.get(who, request.match_info["user_id"])
    if not view.user.email:
        raise InvalidParameter("email (add the user's email address first)")
    await svc.admin.users.enroll(who, view.user.username, view.user.email, None)
    raise see_other(_url(request), "enrollment")


def setup_routes(app: web.Application) -> None:
    router = app.router
    router.add_post(BASE + "/edit", edit)
    router.add_post(BASE + "/status", status)
    router.add_post(BASE + "/delete", delete)
    router.add_post(BASE + "/bypass", bypass)
    router.add_post(BASE + "/bypass/{code_id}/delete", delete_bypass)
    router.add_post(BASE + "/enrollment", enrollment)
