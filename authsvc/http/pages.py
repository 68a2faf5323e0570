"""Browser-facing pages and the health check."""

from __future__ import annotations

import io
from html import escape

import segno
from aiohttp import web

from authsvc.errors import InvalidParameter, NotFound
from authsvc.http.envelope import ok
from authsvc.http.middleware import services

_ENROLL_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Enrollment</title></head>
<body><h1>Enrollment</h1>
<p>Self-service enrollment is not enabled on this server yet{who}.
Ask your administrator to set up a token or bypass codes for you.</p></body></html>
"""


async def enroll_page(request: web.Request) -> web.Response:
    """GET /frame/enroll: where preauth's `enroll_portal_url` points."""
    user = request.query.get("user", "")
    who = f" for <strong>{escape(user)}</strong>" if user else ""
    return web.Response(text=_ENROLL_PAGE.format(who=who), content_type="text/html")


_ACTIVATE_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Activate Duo Mobile</title></head>
<body><h1>Activate Duo Mobile</h1>
<p>On your phone, open this link to add the account to Duo Mobile:</p>
<p><a href="{link}">{link_text}</a></p>
<p>Or scan the QR code from another screen:</p>
<p><img alt="activation QR code" src="{qr}"></p></body></html>
"""
MAX_QR_VALUE = 1024


async def qr_image(request: web.Request) -> web.Response:
    """GET /frame/qr?value=...: the QR code (PNG) of an activation value."""
    value = request.query.get("value", "")
    if not value or len(value) > MAX_QR_VALUE:
        raise InvalidParameter("value")
    buffer = io.BytesIO()
    segno.make(value, error="m").save(buffer, kind="png", scale=6, border=2)
    return web.Response(body=buffer.getvalue(), content_type="image/png",
                        headers={"Cache-Control": "no-store"})


async def activate_page(request: web.Request) -> web.Response:
    """GET /activate/<code>: the page the activation link opens (holds the duo:// link)."""
    svc = services(request)
    code = request.match_info["code"]
    if not await svc.phones.activation_is_live(code):
        raise NotFound("activation code (unknown, expired or used)")
    value = svc.links.activation_value(code)
    # Some apps scrape exactly this HTML-escaped form of the link (device-protocol.md §1.2).
    escaped = "duo&#x3a;&#x2f;&#x2f;" + escape(value)
    page = _ACTIVATE_PAGE.format(link=escaped, link_text="duo://" + escape(value),
                                 qr=escape(svc.links.qr_url(code)))
    return web.Response(text=page, content_type="text/html",
                        headers={"Cache-Control": "no-store"})


async def health(request: web.Request) -> web.Response:
    """GET /healthz, liveness: 200 while the process answers (no Redis call, so a Redis outage
    never makes an orchestrator restart healthy processes)."""
    return ok({"alive": True})


async def ready(request: web.Request) -> web.Response:
    """GET /readyz, readiness: 200 when Redis answers PING, else 503 / 50301 (Retry-After)."""
    await services(request).check_store()
    return ok({"redis": "ok"})


def setup_routes(app: web.Application) -> None:
    """Mount the pages."""
    app.router.add_get("/frame/enroll", enroll_page)
    app.router.add_get("/healthz", health)
    app.router.add_get("/readyz", ready)
    app.router.add_get("/frame/qr", qr_image)
    app.router.add_get("/activate/{code:[A-Za-z0-9]{20}}", activate_page)
