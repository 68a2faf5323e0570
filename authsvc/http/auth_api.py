"""Auth API v2 handlers (``/auth/v2/*``): thin over `domain.auth`."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from authsvc.domain.auth import AuthRequest
from authsvc.domain.verdicts import UNKNOWN_USER
from authsvc.errors import InvalidParameter, MissingParameter
from authsvc.http.envelope import ok
from authsvc.http.middleware import credentials, params, services
from authsvc.http.params import Params

FACTORS_AVAILABLE = ("passcode",)


def _auth_request(request: web.Request, args: Params) -> AuthRequest:
    username = args.text("username", max_length=255)
    user_id = args.text("user_id", max_length=64)
    if (username is None) == (user_id is None):
        if username is None:
            raise MissingParameter("user_id or username")
        raise InvalidParameter("user_id or username (not both)")
    return AuthRequest(
        integration=credentials(request).integration,
        username=username,
        user_id=user_id,
        ipaddr=args.text("ipaddr", max_length=64),
        hostname=args.text("hostname", max_length=255),
    )


async def ping(request: web.Request) -> web.Response:
    """GET /auth/v2/ping (unsigned liveness)."""
    return ok({"time": int(services(request).clock.now())})


async def check(request: web.Request) -> web.Response:
    """GET /auth/v2/check (signed: the credentials work)."""
    return ok({"time": int(services(request).clock.now())})


async def preauth(request: web.Request) -> web.Response:
    """POST /auth/v2/preauth."""
    result = await services(request).auth.preauth(_auth_request(request, params(request)))
    response: dict[str, Any] = {"result": result.result, "status_msg": result.status_msg}
    if result.result == "auth":
        response["devices"] = result.devices
    if result.enroll_portal_url is not None:
        response["enroll_portal_url"] = result.enroll_portal_url
    return ok(response)


async def auth(request: web.Request) -> web.Response:
    """POST /auth/v2/auth (factor=passcode; other factors arrive with later issues)."""
    args = params(request)
    factor = args.required_text("factor")
    if factor not in FACTORS_AVAILABLE:
        raise InvalidParameter(f"factor (available: {', '.join(FACTORS_AVAILABLE)})")
    auth_request = _auth_request(request, args)
    run_async = args.flag("async")
    passcode = args.required_text("passcode")
    svc = services(request)
    verdict = await svc.auth.passcode(auth_request, passcode)
    if verdict is None or verdict is UNKNOWN_USER:
        raise InvalidParameter("user_id" if auth_request.user_id else "username")
    if run_async:
        return ok({"txid": await svc.transactions.finished(verdict)})
    return ok({"result": verdict.result.value, "status": verdict.status,
               "status_msg": verdict.status_msg})


async def auth_status(request: web.Request) -> web.Response:
    """GET /auth/v2/auth_status."""
    txid = params(request).required_text("txid", max_length=64)
    return ok(await services(request).transactions.status(txid))


def setup_routes(app: web.Application) -> None:
    """Mount the Auth API."""
    app.router.add_get("/auth/v2/ping", ping)
    app.router.add_get("/auth/v2/check", check)
    app.router.add_post("/auth/v2/preauth", preauth)
    app.router.add_post("/auth/v2/auth", auth)
    app.router.add_get("/auth/v2/auth_status", auth_status)
