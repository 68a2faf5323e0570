"""Auth API v2 handlers (``/auth/v2/*``): parse the parameters, call one domain function,
render Duo's envelope."""

from __future__ import annotations

import dataclasses
import json
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from authsvc.domain.auth_requests import (
    AuthAnswer,
    AuthRequest,
    OutOfBand,
    Passcode,
    Proof,
    PushOptions,
    U2fResponse,
    WebauthnAssertion,
)
from authsvc.errors import InvalidParameter, MissingParameter
from authsvc.http.envelope import ok
from authsvc.http.middleware import credentials, params, services
from authsvc.http.params import Params

FACTORS_AVAILABLE = ("passcode", "push", "auto", "sms", "phone", "webauthn", "u2f")
MAX_PUSHINFO_BYTES = 20_000
MAX_ASSERTION_BYTES = 16_384


def _auth_request(request: web.Request, args: Params) -> AuthRequest:
    username = args.text("username", max_length=255)
    user_id = args.text("user_id", max_length=64)
    if (username is None) == (user_id is None):
        if username is None:
            raise MissingParameter("user_id or username")
        raise InvalidParameter("user_id or username (not both)")
    return AuthRequest(
        integration=credentials(request).integration, username=username, user_id=user_id,
        ipaddr=args.text("ipaddr", max_length=64),
        hostname=args.text("hostname", max_length=255), client_ip=request.remote)


async def ping(request: web.Request) -> web.Response:
    """GET /auth/v2/ping (unsigned liveness)."""
    return ok({"time": int(services(request).clock.now())})


async def check(request: web.Request) -> web.Response:
    """GET /auth/v2/check (signed: the credentials work)."""
    return ok({"time": int(services(request).clock.now())})


async def preauth(request: web.Request) -> web.Response:
    """POST /auth/v2/preauth."""
    args = params(request)
    result = await services(request).preauth.preauth(
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


def _assertion(args: Params) -> WebauthnAssertion:
    """`assertion`: the AuthenticationResponse JSON, as a string or an object."""
    raw = args.raw("assertion")
    if isinstance(raw, str):
        if len(raw) > MAX_ASSERTION_BYTES:
            raise InvalidParameter("assertion")
        try:
            raw = json.loads(raw)
        except (ValueError, RecursionError):
            raise InvalidParameter("assertion (JSON)") from None
    if not isinstance(raw, dict):
        raise InvalidParameter("assertion")
    return WebauthnAssertion(raw)


def _proof(args: Params, factor: str) -> Proof:
    if factor == "passcode":
        return Passcode(args.required_text("passcode"))
    if factor == "webauthn":
        return _assertion(args)
    if factor == "u2f":
        return U2fResponse(args.required_text("keyHandle", max_length=512),
                           args.required_text("signatureData", max_length=1024),
                           args.required_text("clientData", max_length=4096))
    return OutOfBand(factor, _push_options(args, factor))


def _render(answer: AuthAnswer, run_async: bool) -> web.Response:
    if run_async:
        return ok({"txid": answer.txid})
    return ok(answer.verdict.answer())


async def auth(request: web.Request) -> web.Response:
    """POST /auth/v2/auth (factor passcode, push, phone, sms, auto, webauthn or u2f)."""
    args = params(request)
    factor = args.required_text("factor")
    if factor not in FACTORS_AVAILABLE:
        raise InvalidParameter(f"factor (available: {', '.join(FACTORS_AVAILABLE)})")
    subject = _auth_request(request, args)
    run_async = args.flag("async") and factor not in ("webauthn", "u2f")
    auth_request = dataclasses.replace(subject, proof=_proof(args, factor), run_async=run_async)
    return _render(await services(request).auth.auth(auth_request), run_async)


async def auth_status(request: web.Request) -> web.Response:
    """GET /auth/v2/auth_status (long poll for pushes)."""
    txid = params(request).required_text("txid", max_length=64)
    answer = await services(request).auth.status(txid)
    return ok(answer.verdict.answer())


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
