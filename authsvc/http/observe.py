"""Operability over HTTP: the request id, request metrics, and ``/metrics``.

- `observe_middleware` (outermost): takes the caller's ``X-Request-Id`` when it is well formed
  (1-128 of ``A-Z a-z 0-9 . _ : -``, starting with a letter or digit), else makes one; sets it
  for the logs and the authentication log (`model.authlog.REQUEST_ID`) and echoes it in the
  answer; counts the answer by route template (never the raw path: ids and codes stay out of
  the metrics) and times it.
- ``GET /metrics`` on the service's port: only with ``AUTHSVC_METRICS_TOKEN``, and only for
  ``Authorization: Bearer <token>`` (compared in constant time); 404 without the setting.
- `metrics_listener`: with ``AUTHSVC_METRICS_LISTEN``, a second plain-HTTP listener that
  serves ``/metrics`` alone, without a token (SO_REUSEPORT, so every worker may bind it).
"""

from __future__ import annotations

import contextlib
import re
import secrets
import time
from collections.abc import AsyncIterator

from aiohttp import web
from aiohttp.typedefs import Handler

from authsvc.crypto import constant_time_equal
from authsvc.errors import BadSignature, MissingCredentials, NotFound
from authsvc.http.middleware import SERVICES, services
from authsvc.model.authlog import REQUEST_ID
from authsvc.obs.metrics import CONTENT_TYPE, UNMATCHED, count_request, exposition

HEADER = "X-Request-Id"
METRICS_PATH = "/metrics"
_WELL_FORMED = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_REQUEST_ID = web.RequestKey("request_id", str)


def request_id_of(request: web.Request) -> str:
    """The caller's request id if well formed, else a new one (128 random bits, hex)."""
    given = request.headers.get(HEADER, "")
    return given if _WELL_FORMED.fullmatch(given) else secrets.token_hex(16)


def _route(request: web.Request) -> str:
    match = request.match_info
    if match.http_exception is not None:
        return UNMATCHED
    resource = match.route.resource
    return resource.canonical if resource is not None else UNMATCHED


@web.middleware
async def observe_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Request id, request count by route and status, latency."""
    request_id = request_id_of(request)
    request[_REQUEST_ID] = request_id
    token = REQUEST_ID.set(request_id)  # tasks started while serving inherit it
    started, status = time.perf_counter(), 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:  # redirects and the like, raised past the envelope
        status = exc.status
        exc.headers[HEADER] = request_id
        raise
    finally:
        REQUEST_ID.reset(token)  # the connection's next request, or its errors, are not this one
        route, method = _route(request), request.method if request.method in _METHODS else "other"
        count_request(route, method, status, time.perf_counter() - started)


async def echo_request_id(request: web.Request, response: web.StreamResponse) -> None:
    """`on_response_prepare`: every answer names its request id."""
    request_id = request.get(_REQUEST_ID)
    if isinstance(request_id, str):
        response.headers[HEADER] = request_id


def _metrics_response() -> web.Response:
    return web.Response(body=exposition(), headers={"Content-Type": CONTENT_TYPE})


async def metrics(request: web.Request) -> web.Response:
    """GET /metrics (authsvc): Prometheus's text format, for the bearer of the metrics token."""
    token = services(request).settings.metrics_token
    if token is None:
        raise NotFound()
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        raise MissingCredentials("Authorization: Bearer <metrics token>")
    if not constant_time_equal(given.strip(), token.value):
        raise BadSignature(message="Invalid metrics token in request credentials")
    return _metrics_response()


async def _open_metrics(request: web.Request) -> web.Response:
    return _metrics_response()


async def metrics_listener(app: web.Application) -> AsyncIterator[None]:
    """Cleanup context: the separate ``/metrics`` listener, when configured."""
    listen = app[SERVICES].settings.metrics_listen
    if listen is None:
        yield
        return
    side = web.Application()
    side.router.add_get(METRICS_PATH, _open_metrics)
    runner = web.AppRunner(side, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, listen[0], listen[1], reuse_port=True).start()
    yield
    with contextlib.suppress(Exception):
        await runner.cleanup()


def setup_routes(app: web.Application) -> None:
    """Mount ``/metrics`` and the request-id echo."""
    app.router.add_get(METRICS_PATH, metrics)
    app.on_response_prepare.append(echo_request_id)
