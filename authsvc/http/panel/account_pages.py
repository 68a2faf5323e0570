"""My Account (every administrator): who I am, my second factors, my signed-in browsers, and
"sign out everywhere"; and the Billing page of the Billing role."""

from __future__ import annotations

from aiohttp import web

from authsvc.http.middleware import services
from authsvc.http.panel.common import clear_cookie, opened, page, see_other, session_cookie_name


async def account(request: web.Request) -> web.Response:
    """GET /admin/account."""
    session = opened(request)
    panel = services(request).panel
    factors = await panel.factors.factors(session.admin)
    live = await panel.sessions.live(session)
    return page(request, "panel/account.html", title="My Account", section="account",
                factors=factors, sessions=live)


async def sign_out_everywhere(request: web.Request) -> web.Response:
    """POST /admin/account/sign_out_everywhere: every session of mine ends (this one too)."""
    await services(request).panel.sessions.sign_out_everywhere(opened(request))
    response = see_other("/admin/login", "signed-out")
    clear_cookie(request, response, session_cookie_name(request))
    raise response


async def billing(request: web.Request) -> web.Response:
    """GET /admin/billing: authsvc is self-hosted; there is nothing to buy."""
    return page(request, "panel/billing.html", title="Billing", section="billing")


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/admin/account", account)
    app.router.add_post("/admin/account/sign_out_everywhere", sign_out_everywhere)
    app.router.add_get("/admin/billing", billing)
