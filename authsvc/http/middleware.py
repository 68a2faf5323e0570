"""Middlewares: Duo's error envelope for everything that goes wrong, and request signing.

`error_middleware` is outermost: caller errors become their Duo code, aiohttp's own 404/405/413
become Duo envelopes, an unreachable Redis becomes 503, and anything unexpected becomes a logged
50000 without a traceback in the response.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from authsvc.domain.integrations import Credentials, actor_of
from authsvc.errors import (
    AuthsvcError,
    BodyTooLarge,
    Forbidden,
    InvalidParameter,
    MethodNotAllowed,
    NotFound,
    StoreUnavailable,
)
from authsvc.http.envelope import fail
from authsvc.http.params import Params
from authsvc.http.signature import SignaturePolicy, read_wire, verify_request
from authsvc.http.web import is_panel_path
from authsvc.model.integrations import IntegrationType
from authsvc.model.permissions import Actor
from authsvc.services import Services

log = logging.getLogger(__name__)

SERVICES = web.AppKey("services", Services)
_CREDENTIALS = "authsvc.credentials"
_PARAMS = "authsvc.params"
UNSIGNED_PATHS = frozenset({"/auth/v2/ping"})

_HTTP_ERRORS: dict[int, type[AuthsvcError]] = {
    403: Forbidden,
    404: NotFound,
    405: MethodNotAllowed,
    413: BodyTooLarge,
}


def services(request: web.Request) -> Services:
    """The process's services."""
    return request.app[SERVICES]


def params(request: web.Request) -> Params:
    """The request's parameters (set by `signature_middleware`)."""
    value: Any = request.get(_PARAMS)
    return value if isinstance(value, Params) else Params({})


def credentials(request: web.Request) -> Credentials:
    """The verified caller (set by `signature_middleware`)."""
    value = request[_CREDENTIALS]
    assert isinstance(value, Credentials)  # noqa: S101 - signed routes only
    return value


def actor(request: web.Request) -> Actor:
    """The verified Admin API caller as the permission checks see it."""
    return actor_of(credentials(request).integration)


def _from_http_exception(exc: web.HTTPException) -> AuthsvcError:
    error_type = _HTTP_ERRORS.get(exc.status)
    if error_type is not None:
        return error_type()
    if 400 <= exc.status < 500:
        return InvalidParameter(exc.reason)
    return AuthsvcError()


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Render every failure as Duo's FAIL envelope."""
    try:
        return await handler(request)
    except StoreUnavailable as exc:
        log.warning("redis unavailable: %s", exc)
        return fail(StoreUnavailable())
    except AuthsvcError as error:
        return fail(error)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return fail(_from_http_exception(exc))
    except Exception:
        log.exception("unexpected error on %s %s", request.method, request.path)
        return fail(AuthsvcError())


def _api_of(path: str) -> IntegrationType | None:
    if path.startswith("/admin/") and not is_panel_path(path):
        return IntegrationType.ADMIN
    if path.startswith("/auth/") and path not in UNSIGNED_PATHS:
        return IntegrationType.AUTH
    return None


@web.middleware
async def signature_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Check Duo's HMAC signature on the Auth and Admin APIs, then parse the parameters."""
    if request.match_info.http_exception is not None:
        raise request.match_info.http_exception
    api = _api_of(request.path)
    if api is None:
        return await handler(request)
    body = await request.read()
    wire = read_wire(request, body)
    svc = services(request)
    settings = svc.settings
    creds = await verify_request(
        request, body, wire, registry=svc.integrations,
        policy=SignaturePolicy(svc.clock, settings.max_skew_seconds, settings.public_host))
    if creds.integration.type is not api:
        raise Forbidden(f"{creds.integration.type.value} integration cannot call this API")
    request[_CREDENTIALS] = creds
    request[_PARAMS] = wire.params(body)
    return await handler(request)
