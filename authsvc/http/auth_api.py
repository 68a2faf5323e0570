"""Auth API v2 handlers (``/auth/v2/*``): thin over `domain.auth`."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from authsvc.domain.auth_requests import AuthRequest, PushOptions
from authsvc.domain.transactions import answer_of
from authsvc.domain.verdicts import UNKNOWN_USER
from authsvc.errors import InvalidParameter, MissingParameter
from authsvc.http.envelope import ok
from authsvc.http.middleware import credentials, params, services
from authsvc.http.params import Params
from authsvc.http.security_keys import answer_security_key

FACTORS_AVAILABLE = ("passcode", "push", "auto", "sms", "phone", "webauthn", "u2f")
MAX_PUSHINFO_BYTES = 20_000


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


def _unknown_user(auth_request: AuthRequest) -> InvalidParameter:
    return InvalidParameter("user_id" if auth_request.user_id else "username")


async def ping(request: web.Request) -> web.Response:
    """GET /auth/v2/ping (unsigned liveness)."""
    return ok({"time": int(services(request).clock.now())})


async def check(request: web.Request) -> web.Response:
    """GET /auth/v2/check (signed: the credentials work)."""
    return ok({"time": int(services(request).clock.now())})


async def preauth(request: web.Request) -> web.Response:
    """POST /auth/v2/preauth."""
    args = params(request)
    result = await services(request).auth.preauth(
        _auth_request(request, args),
        verified_push=args.flag("client_supports_verified_push"))
    response: dict[str, Any] = {"result": result.result, "status_msg": result.status_msg}
    if result.result == "auth":
        response["devices"] = result.devices
    if result.enroll_portal_url is not None:
        response["enroll_portal_url"] = result.enroll_portal_url
    if result.verified_push is not None:
        txid, code, expiration = result.verified_push
        response.update(txid=txid, verification_code=code, expiration=expiration)
    return ok(response)


def _push_options(args: Params, factor: str) -> PushOptions:
    device = args.text("device", max_length=64)
    if device is None and factor != "auto":
        raise MissingParameter("device")
    pushinfo = args.text("pushinfo", max_length=MAX_PUSHINFO_BYTES) or ""
    return PushOptions(
        device=device or "auto", type=args.text("type", max_length=100) or "login",
        display_username=args.text("display_username", max_length=255) or "",
        pushinfo=parse_qsl(pushinfo, keep_blank_values=True),
        txid=args.text("txid", max_length=64))


async def auth(request: web.Request) -> web.Response:
    """POST /auth/v2/auth (factor passcode, push or auto)."""
    args = params(request)
    factor = args.required_text("factor")
    if factor not in FACTORS_AVAILABLE:
        raise InvalidParameter(f"factor (available: {', '.join(FACTORS_AVAILABLE)})")
    auth_request = _auth_request(request, args)
    run_async = args.flag("async")
    svc = services(request)
    if factor in ("webauthn", "u2f"):
        return await answer_security_key(request, auth_request, factor, args)
    if factor == "passcode":
        verdict = await svc.auth.passcode(auth_request, args.required_text("passcode"))
        if verdict is None or verdict is UNKNOWN_USER:
            raise _unknown_user(auth_request)
        if run_async:
            return ok({"txid": await svc.transactions.finished(verdict)})
        return ok(answer_of(verdict))
    pushed = await svc.auth.out_of_band(auth_request, factor, _push_options(args, factor))
    if pushed is None:
        raise _unknown_user(auth_request)
    started, user_id = pushed
    if started.refused is not None:
        if run_async:
            return ok({"txid": await svc.transactions.finished(started.refused, started.txid)})
        return ok(answer_of(started.refused))
    if run_async:
        return ok({"txid": started.txid})
    return ok(answer_of(await svc.pushes.wait_final(user_id, started.txid)))


async def auth_status(request: web.Request) -> web.Response:
    """GET /auth/v2/auth_status (long poll for pushes)."""
    txid = params(request).required_text("txid", max_length=64)
    return ok(await services(request).transactions.status(txid))


async def enroll(request: web.Request) -> web.Response:
    """POST /auth/v2/enroll: a new user and a Duo Mobile activation code."""
    args = params(request)
    result = await services(request).enrollment.enroll(
        args.text("username", max_length=255),
        args.integer("valid_secs", minimum=1, maximum=30 * 86_400))
    return ok(result)


async def enroll_status(request: web.Request) -> web.Response:
    """POST /auth/v2/enroll_status: success, waiting or invalid."""
    args = params(request)
    status = await services(request).enrollment.status(
        args.required_text("user_id", max_length=64),
        args.required_text("activation_code", max_length=200))
    return ok(status)


def setup_routes(app: web.Application) -> None:
    """Mount the Auth API."""
    app.router.add_get("/auth/v2/ping", ping)
    app.router.add_get("/auth/v2/check", check)
    app.router.add_post("/auth/v2/preauth", preauth)
    app.router.add_post("/auth/v2/auth", auth)
    app.router.add_get("/auth/v2/auth_status", auth_status)
    app.router.add_post("/auth/v2/enroll", enroll)
    app.router.add_post("/auth/v2/enroll_status", enroll_status)
