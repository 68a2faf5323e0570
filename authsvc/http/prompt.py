"""The Duo Prompt's pages (``/frame/prompt/{sid}``): choose a method, wait for a push or call,
enter a passcode, use a security key, then back to the application.

Every handler opens the session with its cookie, checks the CSRF value of a form (or JSON
body) in constant time, calls one domain function and renders a page or redirects. Data for the
page's JavaScript travels in ``data-*`` attributes; every value is escaped by Jinja2.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from authsvc.domain.prompt import Opened, Redirect
from authsvc.domain.prompt_flow import PromptPage
from authsvc.errors import Forbidden, InvalidParameter
from authsvc.http.middleware import services
from authsvc.http.oauth import PROMPT_COOKIE, set_prompt_cookie, set_remember_cookie
from authsvc.http.web import allow_form_target, form, json_object, render
from authsvc.model.verdicts import Result


async def opened(request: web.Request) -> Opened:
    """The session this URL names, opened with this browser's cookie; its forms may end in a
    redirect to the application."""
    session = await services(request).prompt.sessions.open(
        request.match_info["sid"], request.cookies.get(PROMPT_COOKIE, ""))
    allow_form_target(request, session.session.redirect_uri)
    return session


async def checked_form(request: web.Request) -> tuple[Opened, dict[str, str]]:
    """The session and the form, whose CSRF value must be the session's."""
    session, fields = await opened(request), await form(request)
    if not session.csrf_ok(fields.get("csrf", "")):
        raise Forbidden("This form is not from this sign-in (or it expired). Reload the page.")
    return session, fields


async def checked_json(request: web.Request) -> tuple[Opened, dict[str, Any]]:
    """The session and a JSON object body carrying the session's CSRF value."""
    session = await opened(request)
    body = await json_object(request)
    if not session.csrf_ok(str(body.get("csrf", ""))):
        raise Forbidden("This request is not from this sign-in (or it expired).")
    return session, body


def url(session: Opened, action: str = "") -> str:
    """A URL of this session's prompt."""
    base = f"/frame/prompt/{session.session.sid}"
    return f"{base}/{action}" if action else base


def context(session: Opened, **values: Any) -> dict[str, Any]:
    """What every prompt page shows: the application, the user, the forms' CSRF value."""
    return {"app_name": session.app.name, "username": session.session.username,
            "csrf": session.csrf, "base": url(session),
            "self_service": session.app.self_service, "manage": session.session.manage,
            **values}


def see_other(location: str) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(location)


async def prompt_page(request: web.Request) -> web.Response:
    """GET /frame/prompt/{sid}: the prompt as it stands (methods, enrollment, or a refusal)."""
    session = await opened(request)
    session, page = await services(request).prompt.flow.page(session, request.remote)
    return _page(request, session, page)


def _page(request: web.Request, session: Opened, page: PromptPage) -> web.Response:
    if page.stage == "done":
        raise see_other(url(session, "done"))
    if page.stage == "denied":
        return render(request, "prompt/denied.html", context(session, message=page.message),
                      403)
    if page.stage == "enroll":
        return render(request, "prompt/enroll.html", context(session))
    verdict = session.session.verdict
    return render(request, "prompt/auth.html", context(
        session, page=page, message=page.message,
        message_kind="info" if verdict is not None and verdict.status == "sent" else "error",
        sms_sent=verdict is not None and verdict.status == "sent"))


async def passcode(request: web.Request) -> web.Response:
    """POST /frame/prompt/{sid}/passcode: a passcode from Duo Mobile, a token, SMS or a
    bypass code."""
    session, fields = await checked_form(request)
    code = fields.get("passcode", "")
    if not code.strip():
        raise see_other(url(session))
    await services(request).prompt.flow.passcode(session, code, request.remote)
    raise see_other(url(session))


async def send(request: web.Request) -> web.Response:
    """POST /frame/prompt/{sid}/send: a push, a call or SMS passcodes to one phone."""
    session, fields = await checked_form(request)
    sent = await services(request).prompt.flow.send(
        session, fields.get("method", ""), fields.get("device", ""), request.remote)
    if not sent.waiting:
        raise see_other(url(session))
    return _waiting(request, sent.opened, sent.verdict.status_msg, sent.verification_code,
                    fields.get("method", ""))


def _waiting(request: web.Request, session: Opened, status_msg: str, code: str,
             method: str) -> web.Response:
    return render(request, "prompt/wait.html", context(
        session, status_msg=status_msg, verification_code=code, method=method,
        status_url=url(session, "status"), next_url=url(session)))


async def status(request: web.Request) -> web.Response:
    """GET /frame/prompt/{sid}/status: the push's or call's state (a long poll), as JSON."""
    session = await opened(request)
    verdict = await services(request).prompt.flow.wait(session)
    return web.json_response({"result": verdict.result.value, "status": verdict.status,
                              "status_msg": verdict.status_msg},
                             headers={"Cache-Control": "no-store"})


async def check(request: web.Request) -> web.Response:
    """POST /frame/prompt/{sid}/check: without JavaScript, "I answered: go on"."""
    session, fields = await checked_form(request)
    verdict = await services(request).prompt.flow.wait(session)
    if verdict.result is Result.WAITING:
        return _waiting(request, session, verdict.status_msg, "", fields.get("method", ""))
    raise see_other(url(session))


async def key_options(request: web.Request) -> web.Response:
    """POST /frame/prompt/{sid}/key/options (JSON csrf): WebAuthn request options."""
    session, _ = await checked_json(request)
    return web.json_response({"options": await services(request).prompt.flow
                              .security_key_options(session)})


async def key(request: web.Request) -> web.Response:
    """POST /frame/prompt/{sid}/key (JSON csrf, assertion): check the security key."""
    session, body = await checked_json(request)
    assertion = body.get("assertion")
    if not isinstance(assertion, dict):
        raise InvalidParameter("assertion")
    await services(request).prompt.flow.security_key(session, assertion, request.remote)
    return web.json_response({"next": url(session)})


async def done(request: web.Request) -> web.Response:
    """GET /frame/prompt/{sid}/done: after a successful second factor, manage devices if
    asked, offer to remember the browser if the application allows it, else go back."""
    session = await opened(request)
    verdict = session.session.verdict
    if verdict is None or verdict.result is not Result.ALLOW:
        raise see_other(url(session))
    if services(request).prompt.devices.managing(session):
        # Entering the self-service portal: a new cookie (and CSRF value) for what it opens.
        _, token = await services(request).prompt.sessions.rotate(session)
        response = see_other(url(session, "manage"))
        set_prompt_cookie(response, session.session.sid, token, services(request).settings.tls)
        raise response
    if session.app.remember_days and verdict.status != "bypass" and session.session.user_id:
        return render(request, "prompt/trust.html",
                      context(session, remember_days=session.app.remember_days))
    redirect = await services(request).prompt.sessions.finish(session, ipaddr=request.remote)
    raise see_other(redirect.url)


def _back(request: web.Request, session: Opened, redirect: Redirect) -> web.HTTPSeeOther:
    response = see_other(redirect.url)
    set_remember_cookie(response, session.app.ikey, redirect, services(request).settings.tls)
    return response


async def finish(request: web.Request) -> web.Response:
    """POST /frame/prompt/{sid}/finish (trust=yes|no): back to the application."""
    session, fields = await checked_form(request)
    redirect = await services(request).prompt.sessions.finish(
        session, trust=fields.get("trust") == "yes", ipaddr=request.remote)
    raise _back(request, session, redirect)


async def cancel(request: web.Request) -> web.Response:
    """POST /frame/prompt/{sid}/cancel: give up; the application learns of a deny."""
    session, _ = await checked_form(request)
    redirect = await services(request).prompt.sessions.cancel(session, request.remote)
    raise _back(request, session, redirect)


def setup_routes(app: web.Application) -> None:
    """Mount the prompt."""
    base = "/frame/prompt/{sid:[A-Za-z0-9_-]{22}}"
    router = app.router
    router.add_get(base, prompt_page)
    router.add_post(f"{base}/passcode", passcode)
    router.add_post(f"{base}/send", send)
    router.add_get(f"{base}/status", status)
    router.add_post(f"{base}/check", check)
    router.add_post(f"{base}/key/options", key_options)
    router.add_post(f"{base}/key", key)
    router.add_get(f"{base}/done", done)
    router.add_post(f"{base}/finish", finish)
    router.add_post(f"{base}/cancel", cancel)
