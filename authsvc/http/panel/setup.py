"""The one-time setup link (``/admin/setup/<token>``): enroll a second factor (Duo Mobile by QR
code, or a security key), then choose the password, which uses the link up. The link is
checked on every request, and the setup session is bound to it."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from authsvc.domain.admin_sessions import Opened
from authsvc.errors import Forbidden, InvalidParameter
from authsvc.http.middleware import services
from authsvc.http.panel.common import (
    clear_cookie,
    form,
    page,
    see_other,
    session_cookie_name,
    set_cookie,
    text,
)
from authsvc.http.web import json_object

BASE = "/admin/setup/{token}"


def _base(token: str) -> str:
    return f"/admin/setup/{token}"


async def _session(request: web.Request) -> Opened:
    opened = await services(request).panel.sessions.open_setup(
        request.cookies.get(session_cookie_name(request), ""), request.match_info["token"])
    if opened is None:
        raise Forbidden("This setup page expired. Open the setup link again.")
    return opened


async def _checked(request: web.Request) -> tuple[Opened, Any]:
    opened = await _session(request)
    fields = await form(request)
    if not opened.csrf_ok(text(fields, "csrf", max_length=200)):
        raise Forbidden("This form is not from this setup. Reload the page.")
    return opened, fields


async def start(request: web.Request) -> web.Response:
    """GET /admin/setup/<token>: the second factors so far, and what comes next."""
    token, panel = request.match_info["token"], services(request).panel
    opened = await panel.sessions.open_setup(
        request.cookies.get(session_cookie_name(request), ""), token)
    issued = None
    if opened is None:
        issued = await panel.sessions.start_setup(token)  # NotFound for a dead link
        opened = issued.opened
    factors = await panel.factors.factors(opened.admin)
    response = page(request, "panel/setup.html", csrf=opened.session.csrf, base=_base(token),
                    admin=opened.admin, factors=factors,
                    usable=any(factor.active for factor in factors), error="")
    if issued is not None:
        set_cookie(request, response, session_cookie_name(request), issued.cookie)
    return response


async def add_phone(request: web.Request) -> web.Response:
    """POST /admin/setup/<token>/phone: a new Duo Mobile activation (QR code)."""
    opened, _ = await _checked(request)
    phone_id, activation = await services(request).panel.factors.add_phone(opened.admin)
    base = _base(request.match_info["token"])
    return page(request, "panel/setup_phone.html", csrf=opened.session.csrf, base=base,
                activation=activation, qr_src=_same_origin(activation["activation_barcode"]),
                status_url=f"{base}/phone/{phone_id}/status")


def _same_origin(url: str) -> str:
    """The QR image's path (the page's CSP allows images from this origin only)."""
    return url[url.index("/frame/qr"):] if "/frame/qr" in url else url


async def phone_status(request: web.Request) -> web.Response:
    """GET /admin/setup/<token>/phone/<phone_id>/status: {"activated": bool}."""
    opened = await _session(request)
    activated = await services(request).panel.factors.phone_activated(
        opened.admin, request.match_info["phone_id"])
    return web.json_response({"activated": activated}, headers={"Cache-Control": "no-store"})


async def continue_(request: web.Request) -> web.Response:
    """POST /admin/setup/<token>/continue: back to the setup page."""
    await _checked(request)
    raise see_other(_base(request.match_info["token"]))


async def _json(request: web.Request) -> tuple[Opened, dict[str, Any]]:
    opened = await _session(request)
    body = await json_object(request)
    if not opened.csrf_ok(str(body.get("csrf", ""))):
        raise Forbidden("This request is not from this setup.")
    return opened, body


async def key_options(request: web.Request) -> web.Response:
    """POST /admin/setup/<token>/key/options (JSON csrf): WebAuthn creation options."""
    opened, _ = await _json(request)
    return web.json_response(
        {"options": await services(request).panel.factors.key_registration(opened.admin)})


async def add_key(request: web.Request) -> web.Response:
    """POST /admin/setup/<token>/key (JSON csrf, credential, name): keep the key."""
    opened, body = await _json(request)
    credential = body.get("credential")
    if not isinstance(credential, dict):
        raise InvalidParameter("credential")
    await services(request).panel.factors.add_key(opened.admin, credential,
                                                  str(body.get("name", "")))
    return web.json_response({"next": _base(request.match_info["token"])})


async def password(request: web.Request) -> web.Response:
    """POST /admin/setup/<token>/password: the password (twice); the link is used up."""
    opened, fields = await _checked(request)
    svc, token, admin = services(request), request.match_info["token"], opened.admin
    chosen, again = text(fields, "password", max_length=1024), text(fields, "confirm",
                                                                      max_length=1024)
    error = ""
    if not await svc.panel.factors.usable(admin):
        error = "Enroll a second factor first."
    elif chosen != again:
        error = "The two passwords differ."
    else:
        try:
            await svc.panel.sessions.finish_setup(opened, token, chosen)
        except InvalidParameter as exc:
            error = f"The password does not meet the policy: {exc.message_detail}."
    if error:
        factors = await svc.panel.factors.factors(admin)
        return page(request, "panel/setup.html", 400, csrf=opened.session.csrf,
                    base=_base(token), admin=admin, factors=factors,
                    usable=any(f.active for f in factors), error=error)
    response = see_other("/admin/login", "ready")
    clear_cookie(request, response, session_cookie_name(request))
    raise response


def setup_routes(app: web.Application) -> None:
    router = app.router
    router.add_get(BASE, start)
    router.add_post(BASE + "/phone", add_phone)
    router.add_get(BASE + "/phone/{phone_id}/status", phone_status)
    router.add_post(BASE + "/continue", continue_)
    router.add_post(BASE + "/key/options", key_options)
    router.add_post(BASE + "/key", add_key)
    router.add_post(BASE + "/password", password)
