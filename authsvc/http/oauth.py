"""The OIDC endpoints of Duo's Universal Prompt (``/oauth/v1/*``), as `duo_universal` calls them.

The endpoint URLs a client assertion may name, and the issuer of the id_token, are built from
the Host the client used (duo_universal builds every URL as ``https://{host}/...``) or the
public base URL; errors of the back-channel calls are OAuth JSON (`error`,
`error_description`), those of `authorize` an error page (its redirect URI is not trusted yet).
"""

from __future__ import annotations

from aiohttp import web

from authsvc.domain.oidc import TokenRequest
from authsvc.domain.prompt import Redirect
from authsvc.errors import OAuthError
from authsvc.http.middleware import services
from authsvc.http.web import allow_form_target, form

PROMPT_COOKIE = "authsvc_prompt"
REMEMBER_COOKIE = "authsvc_remember_{client_id}"
AUTHORIZE_PATH = "/oauth/v1/authorize"


def origins(request: web.Request) -> list[str]:
    """The service's origins as a client may have named them."""
    return list(dict.fromkeys([f"https://{request.host}", services(request).links.base_url]))


def endpoints(request: web.Request) -> list[str]:
    """This endpoint's URLs as a client may have named them (a client assertion's `aud`)."""
    return [origin + request.path for origin in origins(request)]


def oauth_error(error: OAuthError) -> web.Response:
    """RFC 6749 §5.2's JSON error (duo_universal raises it as a DuoException)."""
    return web.json_response({"error": error.error,
                              "error_description": str(error.message_detail or error.error)},
                             status=error.http_status, headers={"Cache-Control": "no-store"})


async def health_check(request: web.Request) -> web.Response:
    """POST /oauth/v1/health_check (form: client_id, client_assertion)."""
    fields, svc = await form(request), services(request)
    try:
        timestamp = await svc.prompt.oidc.health_check(
            fields.get("client_id", ""), fields.get("client_assertion", ""), endpoints(request))
    except OAuthError as error:
        return web.json_response(
            {"stat": "FAIL", "code": 40002, "message": error.error,
             "message_detail": str(error.message_detail), "timestamp": int(svc.clock.now())},
            status=400)
    return web.json_response({"stat": "OK", "response": {"timestamp": timestamp}})


def remember_cookie(client_id: str) -> str:
    """The name of an application's remembered-device cookie."""
    return REMEMBER_COOKIE.format(client_id=client_id)


async def authorize(request: web.Request) -> web.Response:
    """GET /oauth/v1/authorize: verify the request, open a prompt session (its cookie is set
    here: the browser arrives cross-site, so the cookie is SameSite=Lax), show the prompt."""
    svc = services(request)
    verified = await svc.prompt.oidc.authorize(request.query, origins(request))
    client_id = verified.client.integration.ikey
    started = await svc.prompt.sessions.start(
        verified, request.cookies.get(remember_cookie(client_id), ""), request.remote)
    if isinstance(started, Redirect):
        allow_form_target(request, started.url)
        raise web.HTTPSeeOther(started.url)
    response = web.HTTPSeeOther(f"/frame/prompt/{started.sid}")
    set_prompt_cookie(response, started.sid, started.token, svc.settings.tls)
    raise response


def set_prompt_cookie(response: web.StreamResponse, sid: str, token: str, secure: bool) -> None:
    """The cookie that opens prompt session `sid`, sent only to its pages."""
    response.set_cookie(PROMPT_COOKIE, token, httponly=True, samesite="Lax", secure=secure,
                        path=f"/frame/prompt/{sid}", max_age=900)


def set_remember_cookie(response: web.StreamResponse, client_id: str, redirect: Redirect,
                        secure: bool) -> None:
    """The remembered-device cookie, sent only to `authorize` (where it is read)."""
    if redirect.remember is not None:
        value, max_age = redirect.remember
        response.set_cookie(remember_cookie(client_id), value, httponly=True, samesite="Lax",
                            secure=secure, path=AUTHORIZE_PATH, max_age=max_age)


async def _token_params(request: web.Request) -> dict[str, str]:
    """duo_universal sends the token call's parameters in the query string; other SDKs send
    a form body. Both are read (the body wins)."""
    fields = dict(request.query)
    if request.content_type == "application/x-www-form-urlencoded":
        fields.update(await form(request))
    return fields


async def token(request: web.Request) -> web.Response:
    """POST /oauth/v1/token: an authorization code for the id_token."""
    fields, svc = await _token_params(request), services(request)
    token_request = TokenRequest(**{name: fields.get(name, "") for name in (
        "grant_type", "code", "redirect_uri", "client_id", "client_assertion_type",
        "client_assertion")})
    issuer = f"https://{request.host}/oauth/v1/token"
    try:
        answer = await svc.prompt.oidc.token(token_request, endpoints(request), issuer)
    except OAuthError as error:
        return oauth_error(error)
    return web.json_response(answer, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


def setup_routes(app: web.Application) -> None:
    """Mount the OIDC endpoints."""
    app.router.add_post("/oauth/v1/health_check", health_check)
    app.router.add_get(AUTHORIZE_PATH, authorize)
    app.router.add_post("/oauth/v1/token", token)
