"""Signing in to the Admin Panel: email and password, then a second factor (Verified Push to
Duo Mobile, a Duo Mobile passcode, or a security key), each step answered with a new session;
signing out, here or everywhere."""

from __future__ import annotations

from typing import Any, TypeVar

from aiohttp import web

from authsvc.domain.admin_sessions import Issued, Opened
from authsvc.errors import Forbidden, InvalidParameter
from authsvc.http.middleware import services
from authsvc.http.panel.common import (
    clear_cookie,
    form,
    login_cookie_name,
    opened,
    page,
    see_other,
    session_cookie_name,
    set_cookie,
    text,
)
from authsvc.http.web import json_object
from authsvc.model.admin_sessions import Stage
from authsvc.model.verdicts import Result, Verdict

R = TypeVar("R", bound=web.StreamResponse)
LOGIN_NONCE_SECONDS = 3600
LOGIN_PATH = "/admin/login"
VERIFY_MESSAGES = {
    "denied": "The second factor was refused. Try again.",
    "fraud": "The push was reported as fraud.",
    "locked": "Too many failed attempts: your second factor is locked. Ask an Owner to reset "
              "your account.",
    "none": "No second factor is enrolled for this account. Ask an Owner for a new setup link.",
}


async def _pending(request: web.Request) -> Opened:
    """The session between the password and the second factor (else back to the form)."""
    session = await services(request).panel.sessions.open(
        request.cookies.get(session_cookie_name(request), ""))
    if session is None or session.session.stage is not Stage.PASSWORD:
        raise see_other(LOGIN_PATH, "expired")
    return session


def _with_session(request: web.Request, response: R, issued: Issued) -> R:
    set_cookie(request, response, session_cookie_name(request), issued.cookie)
    return response


async def login_form(request: web.Request) -> web.Response:
    """GET /admin/login: email and password (a signed-in browser goes to the Dashboard)."""
    sessions = services(request).panel.sessions
    current = await sessions.open(request.cookies.get(session_cookie_name(request), ""))
    if current is not None and current.session.stage is Stage.FULL:
        raise see_other("/admin")
    nonce = sessions.login_nonce()
    response = page(request, "panel/login.html", csrf=sessions.login_csrf(nonce), error="",
                    email="")
    set_cookie(request, response, login_cookie_name(request), nonce, LOGIN_NONCE_SECONDS)
    return response


async def login(request: web.Request) -> web.StreamResponse:
    """POST /admin/login: check the password; then the second factor."""
    sessions = services(request).panel.sessions
    fields = await form(request)
    nonce = request.cookies.get(login_cookie_name(request), "")
    if not sessions.login_csrf_ok(nonce, text(fields, "csrf", max_length=200)):
        raise Forbidden("This sign-in form expired. Reload the page and try again.")
    issued = await sessions.sign_in(text(fields, "email", max_length=320),
                                    text(fields, "password", max_length=1024))
    if issued is None:
        return page(request, "panel/login.html", 401, csrf=sessions.login_csrf(nonce),
                    error="The email or password is wrong, or the account is locked or "
                          "disabled.", email=text(fields, "email", max_length=320))
    previous = await sessions.open(request.cookies.get(session_cookie_name(request), ""))
    if previous is not None:
        await sessions.sign_out(previous)
    response = _with_session(request, see_other(LOGIN_PATH + "/verify"), issued)
    clear_cookie(request, response, login_cookie_name(request))
    raise response


async def verify_page(request: web.Request) -> web.Response:
    """GET /admin/login/verify: choose the second factor."""
    session = await _pending(request)
    factors = await services(request).panel.factors.factors(session.admin)
    phones = [f for f in factors if f.kind == "phone" and f.active]
    has_keys = any(f.kind == "security_key" for f in factors)
    message = VERIFY_MESSAGES.get(request.query.get("message", ""), "")
    if not phones and not has_keys:
        message = VERIFY_MESSAGES["none"]
    return page(request, "panel/verify.html", csrf=session.session.csrf,
                email=session.admin.email, message=message, phones=phones, has_keys=has_keys)


async def _checked(request: web.Request) -> tuple[Opened, Any]:
    session = await _pending(request)
    fields = await form(request)
    if not session.csrf_ok(text(fields, "csrf", max_length=200)):
        raise Forbidden("This form is not from this sign-in. Reload the page.")
    return session, fields


async def _decided(request: web.Request, session: Opened, verdict: Verdict,
                   factor: str) -> web.StreamResponse:
    """Signed in (new session) after an allow; else back to the choice with the reason."""
    sessions = services(request).panel.sessions
    if verdict.result is Result.ALLOW:
        issued = await sessions.promote(session, factor, request.remote)
        raise _with_session(request, see_other("/admin"), issued)
    await sessions.second_factor_failed(session, factor, verdict.reason or verdict.status)
    raise see_other(LOGIN_PATH + "/verify?" + _message(verdict))


def _message(verdict: Verdict) -> str:
    return "message=" + {"deny": "denied", "fraud": "fraud", "locked_out": "locked"}.get(
        verdict.status, "denied")


async def passcode(request: web.Request) -> web.StreamResponse:
    """POST /admin/login/passcode: a Duo Mobile passcode."""
    session, fields = await _checked(request)
    code = text(fields, "passcode", max_length=64).strip()
    if not code:
        raise see_other(LOGIN_PATH + "/verify")
    verdict = await services(request).panel.factors.passcode(session.admin, code, request.remote)
    return await _decided(request, session, verdict, "passcode")


async def push(request: web.Request) -> web.StreamResponse:
    """POST /admin/login/push: a Verified Push; the page shows the code to type in."""
    session, _ = await _checked(request)
    panel = services(request).panel
    verdict, txid, code = await panel.factors.push(session.admin, request.remote)
    if verdict.result is not Result.WAITING:
        return await _decided(request, session, verdict, "push")
    await panel.sessions.wait_for_push(session, txid)
    return page(request, "panel/push_wait.html", csrf=session.session.csrf, code=code,
                email=session.admin.email)


async def push_status(request: web.Request) -> web.Response:
    """GET /admin/login/push/status: the push's state (a bounded long poll), as JSON."""
    session = await _pending(request)
    verdict = await services(request).panel.factors.push_status(session.admin,
                                                                session.session.push_txid)
    return web.json_response({"result": verdict.result.value, "status_msg": verdict.status_msg},
                             headers={"Cache-Control": "no-store"})


async def push_done(request: web.Request) -> web.StreamResponse:
    """GET or POST /admin/login/push/done: after the answer (the no-JS button waits for it)."""
    session = (await _checked(request))[0] if request.method == "POST" else await _pending(request)
    verdict = await services(request).panel.factors.push_status(session.admin,
                                                                session.session.push_txid)
    if verdict.result is Result.WAITING:
        return page(request, "panel/push_wait.html", csrf=session.session.csrf, code="",
                    email=session.admin.email)
    return await _decided(request, session, verdict, "push")


async def _json(request: web.Request) -> tuple[Opened, dict[str, Any]]:
    session = await _pending(request)
    body = await json_object(request)
    if not session.csrf_ok(str(body.get("csrf", ""))):
        raise Forbidden("This request is not from this sign-in.")
    return session, body


async def key_options(request: web.Request) -> web.Response:
    """POST /admin/login/key/options (JSON csrf): WebAuthn request options."""
    session, _ = await _json(request)
    return web.json_response({"options": await services(request).panel.factors.key_request(
        session.admin)})


async def key(request: web.Request) -> web.StreamResponse:
    """POST /admin/login/key (JSON csrf, assertion): signed in, or the reason why not."""
    session, body = await _json(request)
    assertion = body.get("assertion")
    if not isinstance(assertion, dict):
        raise InvalidParameter("assertion")
    panel = services(request).panel
    verdict = await panel.factors.key(session.admin, assertion, request.remote)
    if verdict.result is not Result.ALLOW:
        await panel.sessions.second_factor_failed(session, "security_key", verdict.reason)
        return web.json_response({"next": LOGIN_PATH + "/verify?" + _message(verdict)})
    issued = await panel.sessions.promote(session, "security_key", request.remote)
    return _with_session(request, web.json_response({"next": "/admin"}), issued)


async def logout(request: web.Request) -> web.StreamResponse:
    """POST /admin/logout: end this session."""
    await services(request).panel.sessions.sign_out(opened(request))
    response = see_other(LOGIN_PATH, "signed-out")
    clear_cookie(request, response, session_cookie_name(request))
    raise response


def setup_routes(app: web.Application) -> None:
    router = app.router
    router.add_get(LOGIN_PATH, login_form)
    router.add_post(LOGIN_PATH, login)
    router.add_get(LOGIN_PATH + "/verify", verify_page)
    router.add_post(LOGIN_PATH + "/passcode", passcode)
    router.add_post(LOGIN_PATH + "/push", push)
    router.add_get(LOGIN_PATH + "/push/status", push_status)
    router.add_get(LOGIN_PATH + "/push/done", push_done)
    router.add_post(LOGIN_PATH + "/push/done", push_done)
    router.add_post(LOGIN_PATH + "/key/options", key_options)
    router.add_post(LOGIN_PATH + "/key", key)
    router.add_post("/admin/logout", logout)
