"""Admin API administrators (``/admin/v1/admins``) and the administrator log, as duo_client
calls them (`get_admins`, `get_admin`, `add_admin`, `update_admin`, `delete_admin`,
`reset_admin`, `activate_admin`, `get_administrator_log`)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from authsvc.errors import InvalidParameter
from authsvc.http.envelope import ok
from authsvc.http.middleware import actor, params, services
from authsvc.http.params import Params
from authsvc.http.render import paging
from authsvc.model.admins import DUO_ROLE_NAMES, Admin, AdminStatus, role_from_text
from authsvc.model.roles import Role

ADMINS_MAX_LIMIT = 500
_STATUSES = {"active": AdminStatus.ACTIVE, "disabled": AdminStatus.DISABLED}


def admin_json(admin: Admin, units: list[str] | None = None) -> dict[str, Any]:
    """Duo's administrator object (never a password or its hash); `units`: the ids of the
    Administrative Units the administrator is in (an Owner in none is never restricted)."""
    units = units or []
    return {"admin_id": admin.admin_id, "name": admin.name, "email": admin.email,
            "phone": admin.phone, "role": DUO_ROLE_NAMES[admin.role],
            "status": admin.status.duo_name, "created": admin.created,
            "last_login": admin.last_login, "password_change_required": False,
            "restricted_by_admin_units": bool(units) and admin.role is not Role.OWNER,
            "admin_units": units, "hardtoken": None}


async def _shown(request: web.Request, admins: list[Admin]) -> list[dict[str, Any]]:
    units = await services(request).admin.units.of_admins(actor(request),
                                                          [admin.admin_id for admin in admins])
    return [admin_json(admin, units[admin.admin_id]) for admin in admins]


def _role(args: Params, name: str = "role") -> Role | None:
    text = args.text(name, max_length=64)
    if text is None:
        return None
    role = role_from_text(text)
    if role is None:
        raise InvalidParameter(f"{name} ({', '.join(DUO_ROLE_NAMES.values())})")
    return role


def _status(args: Params) -> AdminStatus | None:
    text = args.text("status", max_length=32)
    if text is None:
        return None
    if text.strip().lower() not in _STATUSES:
        raise InvalidParameter("status (Active or Disabled)")
    return _STATUSES[text.strip().lower()]


async def list_admins(request: web.Request) -> web.Response:
    """GET /admin/v1/admins (paged)."""
    offset, limit = params(request).paging(default_limit=100, max_limit=ADMINS_MAX_LIMIT)
    admins, total = await services(request).admin.admins.page(actor(request), offset, limit)
    return ok(await _shown(request, admins), paging(offset, limit, total))


async def get_admin(request: web.Request) -> web.Response:
    """GET /admin/v1/admins/{admin_id}."""
    admin = await services(request).admin.admins.get(actor(request),
                                                     request.match_info["admin_id"])
    return ok((await _shown(request, [admin]))[0])


async def add_admin(request: web.Request) -> web.Response:
    """POST /admin/v1/admins: a pending administrator; the setup link is mailed, not shown."""
    args = params(request)
    admin, _, _ = await services(request).admin.admins.create(
        actor(request), args.required_text("email", max_length=320),
        args.required_text("name", max_length=200), _role(args) or Role.READ_ONLY,
        args.text("phone", max_length=32) or "")
    return ok(admin_json(admin))


async def update_admin(request: web.Request) -> web.Response:
    """POST /admin/v1/admins/{admin_id}: name, phone, role, status."""
    args = params(request)
    admin = await services(request).admin.admins.update(
        actor(request), request.match_info["admin_id"], name=args.text("name", max_length=200),
        phone=args.text("phone", max_length=32), role=_role(args), status=_status(args))
    return ok((await _shown(request, [admin]))[0])


async def delete_admin(request: web.Request) -> web.Response:
    """DELETE /admin/v1/admins/{admin_id} (never the last Owner)."""
    await services(request).admin.admins.delete(actor(request), request.match_info["admin_id"])
    return ok("")


async def reset_admin(request: web.Request) -> web.Response:
    """POST /admin/v1/admins/{admin_id}/reset: lift the sign-in lockout."""
    admin = await services(request).admin.admins.reset(actor(request),
                                                       request.match_info["admin_id"])
    return ok(admin_json(admin))


async def setup_link(request: web.Request) -> web.Response:
    """POST /admin/v1/admins/{admin_id}/setup_link (authsvc extension): a new one-time link to
    set a password, mailed to the administrator (`send_email=0`: returned instead)."""
    args = params(request)
    mail = args.flag("send_email", default=True)
    admin, link, expires = await services(request).admin.admins.setup_link(
        actor(request), request.match_info["admin_id"],
        args.integer("valid_days", minimum=1, maximum=31), mail=mail)
    if mail:
        return ok({"admin_id": admin.admin_id, "email_sent": True, "expires": expires})
    return ok({"admin_id": admin.admin_id, "email_sent": False, "link": link, "expires": expires})


async def activations(request: web.Request) -> web.Response:
    """POST /admin/v1/admins/activations (`activate_admin`): a pending administrator and its
    activation link (returned, and mailed with `send_email=1`)."""
    args = params(request)
    email = args.required_text("email", max_length=320)
    role = _role(args, "admin_role") or Role.READ_ONLY
    sent = args.flag("send_email")
    admin, link, expires = await services(request).admin.admins.create(
        actor(request), email, email.split("@")[0], role, mail=sent)
    return ok({"admin_activation_id": admin.admin_id, "admin_role": DUO_ROLE_NAMES[role],
               "email": admin.email, "email_sent": sent, "expires": expires, "link": link,
               "valid_days": args.integer("valid_days") or 7})


async def administrator_log(request: web.Request) -> web.Response:
    """GET /admin/v1/logs/administrator?mintime=<s>: the 1,000 oldest records from mintime."""
    mintime = params(request).integer("mintime", default=0, minimum=0, maximum=2**40) or 0
    return ok(await services(request).admin.account.administrator_log(actor(request), mintime))


def setup_routes(app: web.Application) -> None:
    """Mount the administrators and the administrator log."""
    router = app.router
    router.add_get("/admin/v1/admins", list_admins)
    router.add_post("/admin/v1/admins", add_admin)
    router.add_post("/admin/v1/admins/activations", activations)
    router.add_get("/admin/v1/admins/{admin_id}", get_admin)
    router.add_post("/admin/v1/admins/{admin_id}", update_admin)
    router.add_delete("/admin/v1/admins/{admin_id}", delete_admin)
    router.add_post("/admin/v1/admins/{admin_id}/reset", reset_admin)
    router.add_post("/admin/v1/admins/{admin_id}/setup_link", setup_link)
    router.add_get("/admin/v1/logs/administrator", administrator_log)
