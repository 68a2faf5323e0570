"""Middlewares: Duo's error envelope for everything that goes wrong, and request signing.

`error_middleware` is outermost: caller errors become their Duo code, aiohttp's own 404/405/413
become Duo envelopes, an unreachable or refusing Redis becomes 503 with Retry-After, and anything
unexpected becomes a 50000 carrying an error id that the logged traceback carries too, never
the traceback itself.
"""

from __future__ import annotations

import logging
import secrets
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
    NotAuthenticated,
    NotFound,
    RateLimited,
    StoreUnavailable,
)
from authsvc.http.envelope import fail
from authsvc.http.params import Params
from authsvc.http.redaction import redact_target
from authsvc.http.signature import SignaturePolicy, claimed_ikey, read_wire, verify_request
from authsvc.http.web import is_panel_path
from authsvc.model.integrations import IntegrationType
from authsvc.model.permissions import Actor
from authsvc.obs.metrics import RATE_LIMITED, REDIS_ERRORS
from authsvc.services import Services

log = logging.getLogger(__name__)

SERVICES = web.AppKey("services", Services)
_CREDENTIALS = web.RequestKey("credentials", Credentials)
_PARAMS = web.RequestKey("params", Params)
UNSIGNED_PATHS = frozenset({"/auth/v2/ping"})
# Their handlers call Authenticator.auth or Preauth.preauth, whose rate-limit admission includes
# the caller's (address and integration) in the same round trip (domain/ratelimits.py).
ATTEMPT_PATHS = frozenset({"/auth/v2/auth", "/auth/v2/preauth"})

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
        REDIS_ERRORS.labels(type(exc).__name__).inc()
        log.warning("redis unavailable: %s", exc)
        return fail(StoreUnavailable())
    except AuthsvcError as error:
        if isinstance(error, RateLimited):
            RATE_LIMITED.labels(error.message_detail or "").inc()
        return fail(error)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return fail(_from_http_exception(exc))
    except Exception as exc:
        if type(exc).__module__.startswith("authsvc.store"):  # an error reply of Redis
            REDIS_ERRORS.labels(type(exc).__name__).inc()
        # The id ties the client's answer to the logged traceback; the path is redacted.
        error_id = secrets.token_hex(6)
        log.exception("unexpected error %s on %s %s", error_id, request.method,
                      redact_target(request.path))
        return fail(AuthsvcError(f"error id {error_id}"))


def _api_of(path: str) -> IntegrationType | None:
    if path.startswith("/admin/") and not is_panel_path(path):
        return IntegrationType.ADMIN
    if path.startswith("/auth/") and path not in UNSIGNED_PATHS:
        return IntegrationType.AUTH
    return None


@web.middleware
async def signature_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Check Duo's HMAC signature on the Auth and Admin APIs and the caller's rate limits
    (`domain/ratelimits.py`), then parse the parameters."""
    if request.match_info.http_exception is not None:
        raise request.match_info.http_exception
    api = _api_of(request.path)
    if api is None:
        return await handler(request)
    body = await request.read()
    wire = read_wire(request, body)
    svc = services(request)
    settings = svc.settings
    try:
        creds = await verify_request(
            request, body, wire, registry=svc.integrations,
            policy=SignaturePolicy(svc.clock, settings.max_skew_seconds, settings.public_host))
    except NotAuthenticated:  # counted per address and claimed ikey (429 once over)
        await svc.limits.signature_failed(request.remote, claimed_ikey(request))
        raise
    if request.path not in ATTEMPT_PATHS:  # those are admitted with the attempt (domain)
        await svc.limits.admit_caller(request.remote, creds.integration.ikey)
    if creds.integration.type is not api:
        raise Forbidden(f"{creds.integration.type.value} integration cannot call this API")
    request[_CREDENTIALS] = creds
    request[_PARAMS] = wire.params(body)
    return await handler(request)
