"""Administrators (seed 000: "Manage other admins", Owner only; others with the read
permission see the list): add one (the setup link shown once and mailed), change role, status
and name, lift a lockout, send a new setup link, remove a lost second factor, delete."""

from __future__ import annotations

from aiohttp import web

from authsvc.errors import InvalidParameter
from authsvc.http.middleware import services
from authsvc.http.panel.common import actor, form, page, see_other, text
from authsvc.model.admins import DUO_ROLE_NAMES, AdminStatus, role_from_text

ADMIN = "/admin/admins/{admin_id:D[A-Z0-9]{1,40}}"
STATUSES = (AdminStatus.ACTIVE, AdminStatus.DISABLED)


def _url(request: web.Request) -> str:
    return f"/admin/admins/{request.match_info['admin_id']}"


async def admins(request: web.Request) -> web.Response:
    """GET /admin/admins: every administrator."""
    found, total = await services(request).admin.admins.page(actor(request), 0, 500)
    return page(request, "panel/admins.html", title="Administrators", section="admins",
                admins=found, total=total, roles=DUO_ROLE_NAMES, created=None)


async def add(request: web.Request) -> web.Response:
    """POST /admin/admins: a new administrator; its setup link is shown this once."""
    fields = await form(request)
    role = role_from_text(text(fields, "role", max_length=40))
    if role is None:
        raise InvalidParameter("role")
    svc, who = services(request), actor(request)
    admin, link, expires = await svc.admin.admins.create(
        who, text(fields, "email", max_length=320), text(fields, "name", max_length=200), role,
        mail=text(fields, "mail", max_length=2) == "1")
    found, total = await svc.admin.admins.page(who, 0, 500)
    return page(request, "panel/admins.html", title="Administrators", section="admins",
                admins=found, total=total, roles=DUO_ROLE_NAMES,
                created={"admin": admin, "link": link, "expires": expires})


async def admin(request: web.Request) -> web.Response:
    """GET /admin/admins/{admin_id}: one administrator and their second factors."""
    found, factors = await services(request).admin.admins.factors(
        actor(request), request.match_info["admin_id"])
    return page(request, "panel/admin.html", title=found.name, section="admins", admin=found,
                factors=factors, roles=DUO_ROLE_NAMES, statuses=STATUSES, link=None)


async def update(request: web.Request) -> web.Response:
    """POST /admin/admins/{admin_id}/edit: name, role, status."""
    fields = await form(request)
    role = role_from_text(text(fields, "role", max_length=40))
    status_text = text(fields, "status", max_length=20)
    status = AdminStatus(status_text) if status_text in {s.value for s in STATUSES} else None
    await services(request).admin.admins.update(
        actor(request), request.match_info["admin_id"],
        name=text(fields, "name", max_length=200) or None, role=role, status=status)
    raise see_other(_url(request), "saved")


async def reset(request: web.Request) -> web.Response:
    """POST /admin/admins/{admin_id}/reset: lift the sign-in and second-factor lockouts."""
    await services(request).admin.admins.reset(actor(request), request.match_info["admin_id"])
    raise see_other(_url(request), "reset")


async def setup_link(request: web.Request) -> web.Response:
    """POST /admin/admins/{admin_id}/setup_link: a new one-time link, shown once and mailed."""
    svc, who = services(request), actor(request)
    found, link, _ = await svc.admin.admins.setup_link(who, request.match_info["admin_id"], None)
    _, factors = await svc.admin.admins.factors(who, found.admin_id)
    return page(request, "panel/admin.html", title=found.name, section="admins", admin=found,
                factors=factors, roles=DUO_ROLE_NAMES, statuses=STATUSES, link=link)


async def remove_factor(request: web.Request) -> web.Response:
    """POST /admin/admins/{admin_id}/factors/{factor_id}/remove: a lost phone or key."""
    await services(request).admin.admins.remove_factor(
        actor(request), request.match_info["admin_id"], request.match_info["factor_id"])
    raise see_other(_url(request), "removed")


async def delete(request: web.Request) -> web.Response:
    """POST /admin/admins/{admin_id}/delete (never the last Owner)."""
    await services(request).admin.admins.delete(actor(request), request.match_info["admin_id"])
    raise see_other("/admin/admins", "deleted")


def setup_routes(app: web.Application) -> None:
    router = app.router
    router.add_get("/admin/admins", admins)
    router.add_post("/admin/admins", add)
    router.add_get(ADMIN, admin)
    router.add_post(ADMIN + "/edit", update)
    router.add_post(ADMIN + "/reset", reset)
    router.add_post(ADMIN + "/setup_link", setup_link)
    router.add_post(ADMIN + "/factors/{factor_id}/remove", remove_factor)
    router.add_post(ADMIN + "/delete", delete)
