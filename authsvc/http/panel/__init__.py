"""The Admin Panel (``/admin``): sign-in, the setup link, and the pages of the seeds' procedures.

One middleware guards every panel path: security headers (the strict CSP, frame-ancestors
'none'), a cross-site POST refused by its ``Sec-Fetch-Site``, the signed-in session opened from
the cookie (else the sign-in page, or 403 for a POST), the CSRF value of every POST checked in
constant time, and every error rendered as a page (4xx), never a traceback.
"""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.typedefs import Handler

from authsvc.errors import AuthsvcError, Forbidden, NotFound, StoreUnavailable
from authsvc.http.middleware import services
from authsvc.http.panel import (
    account_pages,
    admins_pages,
    applications_pages,
    dashboard,
    devices_pages,
    enrollment_pages,
    groups_pages,
    logs_pages,
    settings_pages,
    setup,
    signin,
    trash_pages,
    user_actions,
    user_devices,
    user_page,
    users_pages,
)
from authsvc.http.panel.common import OPENED, page, see_other, session_cookie_name
from authsvc.http.redaction import redact_target
from authsvc.http.web import is_panel_path, secure_headers
from authsvc.model.admin_sessions import Stage

log = logging.getLogger(__name__)
PUBLIC_PREFIXES = ("/admin/login", "/admin/setup/")
SAFE_METHODS = ("GET", "HEAD")
MODULES = (signin, setup, dashboard, users_pages, user_page, user_actions, user_devices,
           devices_pages, enrollment_pages, admins_pages, settings_pages, logs_pages,
           account_pages, groups_pages, applications_pages, trash_pages)


def _csrf_sent(request: web.Request, fields: object) -> str:
    header = request.headers.get("X-CSRF-Token", "")
    value = fields.get("csrf", "") if hasattr(fields, "get") else ""
    return header or (value if isinstance(value, str) else "")


async def _guard(request: web.Request) -> None:
    """Cross-site posts refused; a signed-in session required outside the sign-in and setup
    pages; the CSRF value of every form checked."""
    unsafe = request.method not in SAFE_METHODS
    if unsafe and request.headers.get("Sec-Fetch-Site", "same-origin") not in (
            "same-origin", "none"):
        raise Forbidden("This form was posted from another site.")
    if request.path.startswith(PUBLIC_PREFIXES):
        return
    opened = await services(request).panel.sessions.open(
        request.cookies.get(session_cookie_name(request), ""))
    if opened is None or opened.session.stage is not Stage.FULL:
        if not unsafe:
            raise see_other("/admin/login", "expired" if opened is None and
                            request.cookies.get(session_cookie_name(request)) else "")
        raise Forbidden("Your session has ended (or this form is not from it). Sign in again.")
    request[OPENED] = opened
    if unsafe and not opened.csrf_ok(_csrf_sent(request, await request.post())):
        raise Forbidden("This form is not from your session (or it expired). "
                        "Reload the page and try again.")


def _error(request: web.Request, title: str, detail: str, status: int) -> web.Response:
    return page(request, "panel/error.html", status, title=title, detail=detail)


@web.middleware
async def panel_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Guard, headers and error pages for every panel path."""
    if not is_panel_path(request.path):
        return await handler(request)
    try:
        await _guard(request)
        response = await handler(request)
    except Forbidden as error:
        response = _error(request, "Not allowed", str(error.message_detail or error.message), 403)
    except NotFound as error:
        response = _error(request, "Not found", str(error.message_detail or error.message), 404)
    except StoreUnavailable:
        response = _error(request, "Try again in a moment", "The service is unavailable.", 503)
    except AuthsvcError as error:
        response = _error(request, "This request cannot be completed",
                          str(error.message_detail or error.message), error.http_status)
    except web.HTTPException as exc:
        if exc.status < 400:
            secure_headers(request, exc)
            raise
        response = _error(request, exc.reason, "This page does not exist.", exc.status)
    except Exception:
        log.exception("unexpected error on %s %s", request.method, redact_target(request.path))
        response = _error(request, "Something went wrong", "Try again.", 500)
    if not response.prepared:
        secure_headers(request, response)
    return response


def setup_routes(app: web.Application) -> None:
    """Mount every panel page."""
    for module in MODULES:
        module.setup_routes(app)
