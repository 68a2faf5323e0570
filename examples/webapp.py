"""A web application protected by the Duo Prompt, as in Duo's own duo_universal demo, on aiohttp.

    authsvc integration create --type web --name "Demo web app" \\
        --redirect-uri http://localhost:8081/duo-callback > var/web.json
    python examples/webapp.py var/web.json    # then open http://localhost:8081

A username/password form (a stub: any password is accepted), then duo_universal's
`create_auth_url` sends the browser to the prompt; the prompt sends it back to /duo-callback
with `duo_code` and `state`, which is checked against the one this browser's session holds
before `exchange_authorization_code_for_2fa_result`. The application decides on
`auth_result.result`: duo_universal itself never does.

The client id and secret come from the JSON `authsvc integration create` printed; the service is
`api_host` from it (WEBAPP_DUO_HOST overrides, e.g. localhost:8443), trusted through
var/tls/ca.pem (WEBAPP_DUO_CA). WEBAPP_PORT sets the port (8081).
"""

from __future__ import annotations

import asyncio
import html
import json
import os
import secrets
import sys
from typing import Any

from aiohttp import web
from duo_universal import Client, DuoException

PORT = int(os.environ.get("WEBAPP_PORT", "8081"))
CA = os.environ.get("WEBAPP_DUO_CA", "var/tls/ca.pem")
REDIRECT_URI = f"http://localhost:{PORT}/duo-callback"
COOKIE = "webapp_session"
DUO = web.AppKey("duo", Client)
SESSIONS = web.AppKey("sessions", dict[str, dict[str, Any]])

_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Demo app</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 32rem; margin: 3rem auto">
<h1>Demo web application</h1>{body}</body></html>"""
_LOGIN = """<form method="post" action="/login">
<p><label>Username <input name="username" autocomplete="username" required></label></p>
<p><label>Password <input name="password" type="password" autocomplete="current-password">
</label> (any password: this is a stub)</p>
<p><button type="submit">Sign in</button></p></form>"""


def page(body: str, status: int = 200) -> web.Response:
    return web.Response(text=_PAGE.format(body=body), content_type="text/html", status=status)


def session(request: web.Request) -> dict[str, Any]:
    """This browser's server-side session (created on first use)."""
    sessions = request.app[SESSIONS]
    key = request.cookies.get(COOKIE, "")
    if key not in sessions:
        key = secrets.token_urlsafe(24)
        sessions[key] = {"key": key}
    data: dict[str, Any] = sessions[key]
    return data


def with_cookie(response: web.StreamResponse, data: dict[str, Any]) -> web.StreamResponse:
    response.set_cookie(COOKIE, data["key"], httponly=True, samesite="Lax")
    return response


async def index(request: web.Request) -> web.Response:
    user = session(request).get("user")
    if user:
        return page(f"<p>Signed in as <strong>{html.escape(user)}</strong> with two factors.</p>")
    return page(_LOGIN)


async def login(request: web.Request) -> web.StreamResponse:
    """First factor (a stub), then off to the Duo Prompt."""
    form = await request.post()
    username = str(form.get("username", "")).strip()
    if not username:
        return page(_LOGIN, 400)
    duo = request.app[DUO]
    try:
        await asyncio.to_thread(duo.health_check)
    except DuoException:
        return page("<p>Two-factor authentication is unavailable; try again later.</p>", 503)
    data = session(request)
    data.update(pending_user=username, state=duo.generate_state())
    response = web.HTTPFound(duo.create_auth_url(username, data["state"]))
    with_cookie(response, data)
    raise response


async def callback(request: web.Request) -> web.StreamResponse:
    """Back from the prompt: the state must be this browser's; then the code is exchanged."""
    data = session(request)
    state, code = request.query.get("state", ""), request.query.get("duo_code", "")
    if not data.get("state") or not secrets.compare_digest(state, data["state"]):
        return page("<p>This sign-in did not start here (state mismatch).</p>", 400)
    username = data.pop("pending_user")
    data.pop("state")
    try:
        claims = await asyncio.to_thread(
            request.app[DUO].exchange_authorization_code_for_2fa_result, code, username)
    except DuoException as exc:
        return page(f"<p>The sign-in failed: {html.escape(str(exc))}</p>", 403)
    result = claims.get("auth_result", {})
    if result.get("result") != "allow":
        return page(f"<p>Access denied: {html.escape(str(result.get('status_msg', '')))}</p>", 403)
    data["user"] = username
    return with_cookie(web.HTTPFound("/"), data)


def create_app(client_id: str, client_secret: str, api_host: str) -> web.Application:
    app = web.Application()
    app[DUO] = Client(client_id, client_secret, api_host, REDIRECT_URI, duo_certs=CA)
    app[SESSIONS] = {}
    app.router.add_get("/", index)
    app.router.add_post("/login", login)
    app.router.add_get("/duo-callback", callback)
    return app


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    with open(sys.argv[1]) as handle:
        keys = json.load(handle)
    host = os.environ.get("WEBAPP_DUO_HOST", keys["api_host"])
    web.run_app(create_app(keys["client_id"], keys["client_secret"], host), host="localhost",
                port=PORT)


if __name__ == "__main__":
    main()
