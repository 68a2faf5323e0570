"""What every browser page shares (the Duo Prompt now, the Admin Panel next): Jinja2 templates
through aiohttp-jinja2 (autoescaped), the static files, the security headers, and the error
page. Templates and static files are package data under ``authsvc/web/``.

Headers on every page: a strict Content-Security-Policy (no inline script or style; a page
whose form may be answered by a redirect to the application adds that origin to
`form-action`, which Chromium applies to the redirect), `frame-ancestors 'none'`,
``X-Frame-Options: DENY``, ``nosniff``, ``Referrer-Policy: no-referrer`` and ``no-store``.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import aiohttp_jinja2
import jinja2
from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.typedefs import Handler

from authsvc.errors import AuthsvcError, InvalidParameter, NotFound, OAuthError, StoreUnavailable

log = logging.getLogger(__name__)

WEB_ROOT = Path(__file__).resolve().parent.parent / "web"
PAGE_PREFIXES = ("/frame/prompt", "/oauth/v1/authorize")
FORM_ACTION = web.RequestKey("form_action", str)
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "connect-src 'self'; form-action 'self'{extra}; frame-ancestors 'none'; "
       "base-uri 'none'")
MAX_FORM_BYTES = 16_384
_ADMIN_API = re.compile(r"/admin/v[0-9]+/")


def is_panel_path(path: str) -> bool:
    """The Admin Panel's pages: ``/admin`` and everything under it but the Admin API
    (``/admin/v1/...``, ``/admin/v2/...``, ...)."""
    return path == "/admin" or (path.startswith("/admin/") and not _ADMIN_API.match(path))


def setup_templates(app: web.Application) -> None:
    """Jinja2 (autoescape on for every template) and ``/static/``."""
    env = aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(WEB_ROOT / "templates"),
                               autoescape=True, undefined=jinja2.StrictUndefined)
    env.filters["when"] = when
    env.filters["hhmm"] = hhmm
    env.filters["platform"] = platform_name
    env.filters["described"] = described
    app.router.add_static("/static/", WEB_ROOT / "static", append_version=True)


def when(timestamp: object) -> str:
    """A unix time (s) as the pages show it ("" for none)."""
    if not isinstance(timestamp, int | float) or isinstance(timestamp, bool) or timestamp <= 0:
        return ""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


PLATFORM_NAMES = {"google android": "Android", "apple ios": "iOS",
                  "generic smartphone": "Generic Smartphone", "windows phone": "Windows Phone",
                  "rim blackberry": "BlackBerry", "symbian os": "Symbian OS",
                  "palm webos": "Palm webOS", "java j2me": "Java J2ME", "unknown": "Unknown"}


def platform_name(platform: object) -> str:
    """Duo's platform value as the pages show it."""
    text = str(platform)
    return PLATFORM_NAMES.get(text, text.title())


def described(description: object) -> str:
    """An administrator log description (JSON of the changed fields) as ``name: value`` text."""
    try:
        fields = json.loads(str(description))
    except ValueError:
        return str(description)
    if not isinstance(fields, dict):
        return str(description)
    return "; ".join(
        f"{name}: {value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)}"
        for name, value in fields.items())


def hhmm(timestamp: object) -> str:
    return when(timestamp)[11:16]


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of a URL (what `form-action` lists)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def allow_form_target(request: web.Request, url: str) -> None:
    """Let this page's forms end in a redirect to `url`'s origin."""
    request[FORM_ACTION] = origin_of(url)


def secure_headers(request: web.Request, response: web.StreamResponse) -> None:
    """The headers every page gets."""
    extra = request.get(FORM_ACTION)
    response.headers["Content-Security-Policy"] = CSP.format(extra=f" {extra}" if extra else "")
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"


def render(request: web.Request, template: str, context: Mapping[str, Any],
           status: int = 200) -> web.Response:
    """A page from a template (values escaped by Jinja2)."""
    return aiohttp_jinja2.render_template(template, request, dict(context), status=status)


def error_page(request: web.Request, title: str, detail: str, status: int) -> web.Response:
    """The page every prompt error ends on: what happened, never a traceback."""
    return render(request, "error.html", {"title": title, "detail": detail}, status)


MAX_JSON_BYTES = 32_768


async def json_object(request: web.Request) -> dict[str, Any]:
    """A JSON object body (size-capped); anything else is InvalidParameter."""
    raw = await request.content.read(MAX_JSON_BYTES + 1)
    try:
        body = json.loads(raw) if len(raw) <= MAX_JSON_BYTES else None
    except (ValueError, RecursionError):
        body = None
    if not isinstance(body, dict):
        raise InvalidParameter("body (a JSON object)")
    return body


async def form(request: web.Request) -> dict[str, str]:
    """A urlencoded form body (size-capped; a repeated field keeps its last value)."""
    body = await request.content.read(MAX_FORM_BYTES + 1)
    if len(body) > MAX_FORM_BYTES:
        raise OAuthError("The form is too large.")
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


def _error_response(request: web.Request, error: AuthsvcError) -> web.Response:
    if isinstance(error, NotFound):
        return error_page(request, "This sign-in has ended", str(error), error.http_status)
    if isinstance(error, StoreUnavailable):
        return error_page(request, "Try again in a moment",
                          "The service is unavailable right now.", 503)
    return error_page(request, "This request cannot be completed",
                      str(error.message_detail or error.message), error.http_status)


@web.middleware
async def page_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Security headers on browser pages, and errors there as an error page (not JSON)."""
    if not request.path.startswith(PAGE_PREFIXES):
        response = await handler(request)
        if request.path.startswith("/static/"):
            response.headers["X-Content-Type-Options"] = "nosniff"
        return response
    try:
        response = await handler(request)
    except AuthsvcError as error:
        response = _error_response(request, error)
    except web.HTTPException as exc:
        if exc.status < 400:
            secure_headers(request, exc)
            raise
        response = error_page(request, exc.reason, "This page does not exist.", exc.status)
    except Exception:
        log.exception("unexpected error on %s %s", request.method, request.path)
        response = error_page(request, "Something went wrong",
                              "Go back to the application and try again.", 500)
    secure_headers(request, response)
    return response


class PathOnlyAccessLogger(AbstractAccessLogger):
    """The access log without query strings: duo_universal sends the token call's code and
    client assertion in the query, and no log line may hold a code."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info('%s "%s %s" %d %.3f', request.remote, request.method, request.path,
                         response.status, time)
