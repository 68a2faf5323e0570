"""What every Admin Panel handler shares: the session cookie, the signed-in administrator, the
form, the page context (what the administrator's role may do), and redirects.

Handlers stay thin: read the form, call one domain function with the administrator as actor,
render a page or redirect. What a page shows is decided by `Actor.may` (the permission table)
and the conditions the domain exposes; the domain checks the same again for every change.
"""

from __future__ import annotations

import csv
import io
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from authsvc.domain.admin_sessions import Opened
from authsvc.errors import InvalidParameter
from authsvc.http.middleware import services
from authsvc.http.web import render
from authsvc.model.admins import DUO_ROLE_NAMES
from authsvc.model.permissions import Action, Actor

OPENED = web.RequestKey("admin_panel_session", Opened)
SESSION_COOKIE, SESSION_COOKIE_TLS = "authsvc_admin", "__Host-authsvc_admin"
LOGIN_COOKIE, LOGIN_COOKIE_TLS = "authsvc_admin_login", "__Host-authsvc_admin_login"
MAX_FIELD = 4096

# Notices shown after a redirect, named in the query (no text is ever reflected from it).
NOTICES = {
    "saved": "Changes saved.", "created": "Created.", "deleted": "Deleted.",
    "sent": "Sent.", "removed": "Removed.", "reset": "Reset done.", "restored": "Restored.",
    "status": "Status changed.", "trashed": "Sent to the Trash.", "resynced": "Token resynced.",
    "attached": "Attached.", "reordered": "Phones reordered.", "sessions": "Signed out of "
    "every other browser.", "ready": "Your account is ready: sign in.",
    "signed-out": "You are signed out.", "expired": "Your session ended: sign in again.",
    "enrollment": "Enrollment email sent.", "sms": "SMS passcodes sent.",
    "activation-sms": "Activation link sent by SMS.",
}


def tls(request: web.Request) -> bool:
    return services(request).settings.tls


def session_cookie_name(request: web.Request) -> str:
    """``__Host-`` (Secure, Path=/) over TLS; over plain HTTP the prefix is impossible."""
    return SESSION_COOKIE_TLS if tls(request) else SESSION_COOKIE


def login_cookie_name(request: web.Request) -> str:
    return LOGIN_COOKIE_TLS if tls(request) else LOGIN_COOKIE


def set_cookie(request: web.Request, response: web.StreamResponse, name: str, value: str,
               max_age: int | None = None) -> None:
    """HttpOnly, SameSite=Strict, Secure over TLS; a browser-session cookie unless `max_age`."""
    secure = tls(request)
    response.set_cookie(name, value, httponly=True, samesite="Strict", secure=secure,
                        path="/" if secure else "/admin", max_age=max_age)


def clear_cookie(request: web.Request, response: web.StreamResponse, name: str) -> None:
    secure = tls(request)
    response.del_cookie(name, path="/" if secure else "/admin", secure=secure, httponly=True,
                        samesite="Strict")


def opened(request: web.Request) -> Opened:
    """The signed-in administrator's session (set by the panel middleware)."""
    return request[OPENED]


def actor(request: web.Request) -> Actor:
    return opened(request).actor


class Form:
    """A posted form as aiohttp parses it (a field may come more than once)."""

    def __init__(self, data: Any) -> None:
        self._data = data

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def get(self, key: str, default: Any = None) -> Any:
        return self._data.get(key, default)

    def getall(self, key: str) -> list[Any]:
        return list(self._data.getall(key, []))


async def form(request: web.Request) -> Form:
    """The posted form (urlencoded or multipart; size capped by the application)."""
    return Form(await request.post())


def text(fields: Form, name: str, *, max_length: int = MAX_FIELD) -> str:
    """A text field ("" when absent); too long or not text is a 400."""
    value = fields.get(name, "")
    if isinstance(value, web.FileField):
        value = value.file.read(max_length + 1).decode("utf-8", "replace")
    if not isinstance(value, str) or len(value) > max_length:
        raise InvalidParameter(name)
    return value


def integer(fields: Form, name: str, default: int, low: int, high: int) -> int:
    raw = text(fields, name, max_length=20).strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidParameter(name) from None
    if not low <= value <= high:
        raise InvalidParameter(f"{name} ({low}-{high})")
    return value


def see_other(location: str, notice: str = "") -> web.HTTPSeeOther:
    """Post/redirect/get, with one of the fixed notices."""
    if notice:
        location += ("&" if "?" in location else "?") + urlencode({"notice": notice})
    return web.HTTPSeeOther(location)


def may(actor_: Actor) -> dict[str, bool]:
    """What the administrator's role may do (the permission table, for the templates)."""
    return {action.value: actor_.may(action) for action in Action}


def page(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    """A panel page: the administrator, their role's permissions, the CSRF value, a notice."""
    session = request.get(OPENED)
    notice = NOTICES.get(request.query.get("notice", ""), "")
    base: dict[str, Any] = {"notice": notice, "section": "", "title": ""}
    if session is not None:
        base.update(me=session.admin, role_name=DUO_ROLE_NAMES[session.admin.role],
                    csrf=session.session.csrf, may=may(session.actor))
    return render(request, template, {**base, **context}, status)


def csv_bytes(rows: list[list[str]]) -> bytes:
    """CSV lines; a cell that a spreadsheet would read as a formula (``= + - @``) is quoted
    with a leading apostrophe (CSV injection)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow(["'" + cell if cell[:1] in ("=", "+", "-", "@") else cell
                         for cell in row])
    return buffer.getvalue().encode()
