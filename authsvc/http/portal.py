"""The enrollment portal (``/portal/enroll/<link token>``) and the self-service portal
(``/portal/self``): small HTML pages, every value escaped, forms protected by the link token or
by the session's CSRF token, session cookies HttpOnly and SameSite=Strict (Secure over TLS)."""

from __future__ import annotations

import json
from html import escape
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from authsvc.crypto import constant_time_equal
from authsvc.domain.portal import PLATFORMS
from authsvc.errors import AuthsvcError, InvalidParameter
from authsvc.http.middleware import services
from authsvc.model.enrollments import PortalSession
from authsvc.model.security_keys import KeyKind
from authsvc.services import Services

COOKIE = "authsvc_portal"
_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body><h1>{title}</h1>
{body}
</body></html>
"""


def page(title: str, body: str, status: int = 200) -> web.Response:
    return web.Response(text=_PAGE.format(title=escape(title), body=body), status=status,
                        content_type="text/html", headers={"Cache-Control": "no-store"})


def error_page(error: AuthsvcError) -> web.Response:
    detail = escape(str(error.message_detail or error.message))
    return page("Something is wrong", f'<p id="error">{detail}</p>', error.http_status)


async def form(request: web.Request) -> dict[str, str]:
    return dict(parse_qsl((await request.read()).decode("utf-8", "replace"),
                          keep_blank_values=True))


def _platform_select() -> str:
    options = "".join(f'<option value="{key}">{escape(name)}</option>'
                      for key, name in PLATFORMS.items())
    return f'<label>Phone platform <select name="platform">{options}</select></label>'


def activation_page(activation: dict[str, Any]) -> web.Response:
    url, qr = escape(activation["activation_url"]), escape(activation["activation_barcode"])
    return page("Activate Duo Mobile", f"""<p>Scan this QR code with Duo Mobile:</p>
<p><img id="qr" alt="activation QR code" src="{qr}"></p>
<p>Or open this link on the phone: <a id="activation-link" href="{url}">{url}</a></p>""")


async def enroll_page(request: web.Request) -> web.Response:
    """GET /portal/enroll/{token}: what the mailed link opens."""
    token = request.match_info["token"]
    try:
        record = await services(request).portals.check_link(token)
    except AuthsvcError as error:
        return error_page(error)
    base = f"/portal/enroll/{escape(token)}"
    return page("Set up two-factor authentication", f"""
<p>Welcome, {escape(record.username)}. Add a device to sign in with:</p>
<form id="add-mobile" method="post" action="{base}/mobile">{_platform_select()}
<button type="submit">Add Duo Mobile</button></form>
<form id="add-sms" method="post" action="{base}/sms">
<label>Phone number for SMS passcodes <input name="number" type="tel"></label>
<button type="submit">Add this phone</button></form>""")


async def enroll_mobile(request: web.Request) -> web.Response:
    """POST /portal/enroll/{token}/mobile."""
    fields = await form(request)
    try:
        activation = await services(request).portals.enroll_mobile(
            request.match_info["token"], fields.get("platform", "android"))
    except AuthsvcError as error:
        return error_page(error)
    return activation_page(activation)


async def enroll_sms(request: web.Request) -> web.Response:
    """POST /portal/enroll/{token}/sms."""
    fields = await form(request)
    try:
        number = await services(request).portals.enroll_sms(request.match_info["token"],
                                                            fields.get("number", ""))
    except AuthsvcError as error:
        return error_page(error)
    return page("Phone added", f'<p id="done">{escape(number)} can now receive SMS passcodes.</p>')


async def _session(request: web.Request) -> PortalSession | None:
    return await services(request).portals.session(request.cookies.get(COOKIE, ""))


async def self_login_page(request: web.Request) -> web.Response:
    """GET /portal/self: sign in with a passcode (or bypass code), or a push."""
    if await _session(request) is not None:
        raise web.HTTPSeeOther("/portal/self/devices")
    return page("Manage your devices", """<form id="login" method="post" action="/portal/self/login">
<label>Username <input name="username"></label>
<label>Passcode or bypass code <input name="passcode" autocomplete="one-time-code"></label>
<button name="method" value="passcode" type="submit">Sign in with the passcode</button>
<button name="method" value="push" type="submit">Send me a push</button></form>""")


async def self_login(request: web.Request) -> web.StreamResponse:
    """POST /portal/self/login."""
    fields, svc = await form(request), services(request)
    passcode = None if fields.get("method") == "push" else fields.get("passcode", "")
    try:
        signed_in = await svc.portals.login(fields.get("username", ""), passcode,
                                            client_ip=request.remote)
    except AuthsvcError as error:
        return error_page(error)
    if signed_in is None:
        return page("Not signed in", '<p id="error">That did not work.</p>', 403)
    response = web.HTTPSeeOther("/portal/self/devices")
    response.set_cookie(COOKIE, signed_in[0], httponly=True, samesite="Strict",
                        secure=svc.settings.tls, path="/portal/self", max_age=900)
    raise response


async def self_devices(request: web.Request) -> web.Response:
    """GET /portal/self/devices: the user's phones, with add and delete."""
    session = await _session(request)
    if session is None:
        raise web.HTTPSeeOther("/portal/self")
    return await _devices_page(services(request), session)


async def _devices_page(svc: Services, session: PortalSession) -> web.Response:
    csrf = escape(session.csrf)
    rows = "".join(
        f'<li class="device" data-phone-id="{escape(p.phone_id)}">{escape(p.name or p.number)}'
        f' ({escape(p.platform)}{", activated" if p.activated else ""})'
        f'<form method="post" action="/portal/self/devices/{escape(p.phone_id)}/delete">'
        f'<input type="hidden" name="csrf" value="{csrf}"><button>Delete</button></form></li>'
        for p in await svc.phones.of_user(session.user_id))
    return page("Your devices", f"""<ul id="devices">{rows}</ul>
<form id="add-mobile" method="post" action="/portal/self/devices/mobile">
<input type="hidden" name="csrf" value="{csrf}">{_platform_select()}
<button type="submit">Add Duo Mobile</button></form>""")


async def _checked_session(request: web.Request) -> tuple[PortalSession, dict[str, str]]:
    session, fields = await _session(request), await form(request)
    if session is None or not constant_time_equal(fields.get("csrf", ""), session.csrf):
        raise web.HTTPForbidden(text="session expired or form not from this site")
    return session, fields


async def self_add_mobile(request: web.Request) -> web.Response:
    """POST /portal/self/devices/mobile."""
    session, fields = await _checked_session(request)
    platform = PLATFORMS.get(fields.get("platform", ""), "generic smartphone")
    activation = await services(request).portals.add_mobile(session.user_id, platform)
    return activation_page(activation)


async def self_delete(request: web.Request) -> web.Response:
    """POST /portal/self/devices/{phone_id}/delete."""
    session, _ = await _checked_session(request)
    svc = services(request)
    try:
        await svc.portals.delete_device(session.user_id, request.match_info["phone_id"])
    except AuthsvcError as error:
        return error_page(error)
    return await _devices_page(svc, session)


async def _json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.read())
    except (ValueError, RecursionError):
        raise InvalidParameter("body (JSON)") from None
    if not isinstance(body, dict):
        raise InvalidParameter("body (a JSON object)")
    return body


async def _json_session(request: web.Request, body: dict[str, Any]) -> PortalSession:
    session = await _session(request)
    if session is None or not constant_time_equal(str(body.get("csrf", "")), session.csrf):
        raise web.HTTPForbidden(text="session expired or request not from this site")
    return session


def _kind(request: web.Request) -> KeyKind:
    return KeyKind(request.match_info["kind"])


async def self_key_begin(request: web.Request) -> web.Response:
    """POST /portal/self/{webauthn|u2f}/begin (form csrf): options for the user's new key."""
    session, _ = await _checked_session(request)
    options = await services(request).portals.key_options(session.user_id, _kind(request))
    return web.json_response(options)


async def self_key_finish(request: web.Request) -> web.Response:
    """POST /portal/self/{webauthn|u2f}/finish (JSON with csrf): store the new key."""
    body = await _json_body(request)
    session = await _json_session(request, body)
    result = await services(request).portals.register_key(session.user_id, _kind(request), body)
    return web.json_response(result)


async def enroll_key_begin(request: web.Request) -> web.Response:
    """POST /portal/enroll/{token}/{webauthn|u2f}/begin: options for the invited user's key."""
    portals = services(request).portals
    record = await portals.check_link(request.match_info["token"])
    return web.json_response(await portals.key_options(record.user_id, _kind(request)))


async def enroll_key_finish(request: web.Request) -> web.Response:
    """POST /portal/enroll/{token}/{webauthn|u2f}/finish: store the key and use the link up."""
    result = await services(request).portals.enroll_key(
        request.match_info["token"], _kind(request), await _json_body(request))
    return web.json_response(result)


def setup_routes(app: web.Application) -> None:
    """Mount the portals."""
    router = app.router
    router.add_get("/portal/enroll/{token}", enroll_page)
    router.add_post("/portal/enroll/{token}/mobile", enroll_mobile)
    router.add_post("/portal/enroll/{token}/sms", enroll_sms)
    router.add_get("/portal/self", self_login_page)
    router.add_post("/portal/self/login", self_login)
    router.add_get("/portal/self/devices", self_devices)
    router.add_post("/portal/self/devices/mobile", self_add_mobile)
    router.add_post("/portal/self/devices/{phone_id}/delete", self_delete)
    kind = "{kind:webauthn|u2f}"
    router.add_post(f"/portal/self/{kind}/begin", self_key_begin)
    router.add_post(f"/portal/self/{kind}/finish", self_key_finish)
    router.add_post(f"/portal/enroll/{{token}}/{kind}/begin", enroll_key_begin)
    router.add_post(f"/portal/enroll/{{token}}/{kind}/finish", enroll_key_finish)
