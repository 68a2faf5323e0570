"""The Dashboard (``/admin``): user counts, the newest denials and fraud reports, and the last
24 hours of authentications."""

from __future__ import annotations

from aiohttp import web

from authsvc.http.middleware import services
from authsvc.http.panel.common import actor, page
from authsvc.model.permissions import Action

CHART_HEIGHT = 120


async def dashboard(request: web.Request) -> web.Response:
    """GET /admin: the Dashboard (a role without it, e.g. Billing, goes to its first page)."""
    who = actor(request)
    if not who.may(Action.READ_SUMMARY):
        raise web.HTTPSeeOther("/admin/billing" if who.may(Action.MANAGE_BILLING)
                               else "/admin/account")
    view = await services(request).panel.dashboard.view(who)
    peak = max([hour.total for hour in view.hours] or [0]) or 1
    bars = [{"hour": hour, "x": i * 20, "ok": round(hour.success * CHART_HEIGHT / peak),
             "bad": round((hour.denied + hour.fraud) * CHART_HEIGHT / peak)}
            for i, hour in enumerate(view.hours)]
    return page(request, "panel/dashboard.html", title="Dashboard", section="dashboard",
                view=view, bars=bars, chart_height=CHART_HEIGHT, peak=peak)


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/admin", dashboard)
    app.router.add_get("/admin/", dashboard)
