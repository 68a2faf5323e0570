"""Browser-facing pages and the health check."""

from __future__ import annotations

from html import escape

from aiohttp import web

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


async def health(request: web.Request) -> web.Response:
    """GET /healthz: 200 when Redis answers, 503 (Duo envelope) when it does not."""
    await services(request).check_store()
    return ok({"redis": "ok"})


def setup_routes(app: web.Application) -> None:
    """Mount the pages."""
    app.router.add_get("/frame/enroll", enroll_page)
    app.router.add_get("/healthz", health)
