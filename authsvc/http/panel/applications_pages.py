"""Applications (seed 000: "Manage applications", Owner, Administrator and Application Manager;
Read-only reads): the integrations, a new one with its secret key shown once, an
application's page (notes, new-user policy, permitted groups), its secret key on an explicit,
logged request, delete. Admin API applications are for Owners only (the domain says so)."""

from __future__ import annotations

from aiohttp import web

from authsvc.domain.integration_changes import DUO_TYPE_NAMES, IntegrationChanges
from authsvc.http.middleware import services
from authsvc.http.panel.common import actor, form, page, see_other, text
from authsvc.model.integrations import EnrollPolicy, Integration

APP = "/admin/applications/{ikey:D[A-Z0-9]{1,40}}"
TYPES = {"authapi": "Auth API", "websdk": "Web SDK (Duo Prompt)", "adminapi": "Admin API"}


async def _page_of(request: web.Request, integration: Integration, skey: str = "",
                   created: bool = False) -> web.Response:
    svc, who = services(request), actor(request)
    groups, _ = await svc.admin.groups.page(who, 0, 500)
    return page(request, "panel/application.html", title=integration.name,
                section="applications", app=integration, skey=skey, created=created,
                type_name=TYPES[DUO_TYPE_NAMES[integration.type]], groups=groups,
                policies=[p.value for p in EnrollPolicy])


async def applications(request: web.Request) -> web.Response:
    """GET /admin/applications: every application (no secret)."""
    found, total = await services(request).admin.integrations.page(actor(request), 0, 500)
    return page(request, "panel/applications.html", title="Applications",
                section="applications", apps=found, total=total, types=TYPES,
                duo_types=DUO_TYPE_NAMES)


async def create(request: web.Request) -> web.Response:
    """POST /admin/applications: a new application; its secret key is shown this once."""
    fields = await form(request)
    made = await services(request).admin.integrations.create(actor(request), IntegrationChanges(
        name=text(fields, "name", max_length=200), type=text(fields, "type", max_length=20),
        notes=text(fields, "notes", max_length=1024) or None))
    return await _page_of(request, made.integration, made.skey, created=True)


async def application(request: web.Request) -> web.Response:
    """GET /admin/applications/{ikey}: the application (its secret key hidden)."""
    found = await services(request).admin.integrations.get(actor(request),
                                                           request.match_info["ikey"])
    return await _page_of(request, found)


async def update(request: web.Request) -> web.Response:
    """POST /admin/applications/{ikey}/edit: name, notes, new-user policy, permitted groups."""
    fields = await form(request)
    groups = [value for value in fields.getall("groups_allowed") if isinstance(value, str)]
    await services(request).admin.integrations.update(
        actor(request), request.match_info["ikey"], IntegrationChanges(
            name=text(fields, "name", max_length=200),
            notes=text(fields, "notes", max_length=1024),
            enroll_policy=text(fields, "enroll_policy", max_length=10) or None,
            groups_allowed=groups))
    raise see_other(f"/admin/applications/{request.match_info['ikey']}", "saved")


async def secret_key(request: web.Request) -> web.Response:
    """POST /admin/applications/{ikey}/secret_key: show the secret key (the view is logged)."""
    svc, who, ikey = services(request), actor(request), request.match_info["ikey"]
    skey = await svc.admin.integrations.secret_key(who, ikey)
    return await _page_of(request, await svc.admin.integrations.get(who, ikey), skey)


async def delete(request: web.Request) -> web.Response:
    """POST /admin/applications/{ikey}/delete: its keys stop working at once."""
    await services(request).admin.integrations.delete(actor(request), request.match_info["ikey"])
    raise see_other("/admin/applications", "deleted")


def setup_routes(app: web.Application) -> None:
    router = app.router
    router.add_get("/admin/applications", applications)
    router.add_post("/admin/applications", create)
    router.add_get(APP, application)
    router.add_post(APP + "/edit", update)
    router.add_post(APP + "/secret_key", secret_key)
    router.add_post(APP + "/delete", delete)
