"""Admin API integration handlers (``/admin/v3/integrations``, ``/admin/v1/integrations/{ikey}/
skey``); every call checked and logged by `domain/admin/integrations.py`."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from authsvc.domain.admin.integrations import capability
from authsvc.domain.integration_changes import (
    DUO_TYPE_NAMES,
    IGNORED,
    UNSUPPORTED,
    IntegrationChanges,
)
from authsvc.errors import InvalidParameter
from authsvc.http.envelope import ok
from authsvc.http.middleware import actor, params, services
from authsvc.http.params import Params
from authsvc.http.render import paging
from authsvc.model.integrations import Grant, Integration, IntegrationType

MAX_LIMIT = 300
DEFAULT_LIMIT = 100
_KNOWN = {"name", "type", "notes", "enroll_policy", "groups_allowed", "role", "reset_secret_key",
          *IGNORED, *(grant.value for grant in Grant)}


def integration_json(integration: Integration) -> dict[str, Any]:
    """The Admin API integration object (never the secret key). `role`, an authsvc field, is
    the role an admin integration acts in (null when it acts by its grants); the
    ``adminapi_*`` flags show what it may do either way."""
    power = capability(integration)
    acts_in_role = integration.type is IntegrationType.ADMIN and not (
        integration.grants or integration.grants_only)
    return {
        "integration_key": integration.ikey, "name": integration.name,
        "type": DUO_TYPE_NAMES[integration.type], "notes": integration.notes,
        "enroll_policy": integration.enroll_policy.value,
        "groups_allowed": list(integration.groups_allowed),
        **{grant.value: 1 if grant in power else 0 for grant in Grant},
        "role": integration.role.value if acts_in_role else None,
        "created": integration.created,
    }


def _changes(args: Params, *, creating: bool) -> IntegrationChanges:
    for name in UNSUPPORTED:
        if args.raw(name) is not None:
            raise InvalidParameter(f"{name} (not supported by authsvc)")
    unknown = sorted(args.names() - _KNOWN - {"limit", "offset"})
    if unknown:
        raise InvalidParameter(f"{unknown[0]} (unknown parameter)")
    if not creating and args.raw("type") is not None:
        raise InvalidParameter("type (cannot be changed)")
    groups = args.items("groups_allowed") if args.raw("groups_allowed") is not None else None
    return IntegrationChanges(
        name=args.text("name", max_length=1000), type=args.text("type", max_length=40),
        notes=args.text("notes", max_length=5000),
        enroll_policy=args.text("enroll_policy", max_length=20), groups_allowed=groups,
        grants={grant: args.flag(grant.value) for grant in Grant
                if args.raw(grant.value) is not None},
        role=args.text("role", max_length=40),
        reset_secret_key=not creating and args.raw("reset_secret_key") is not None)


async def list_integrations(request: web.Request) -> web.Response:
    """GET /admin/v3/integrations (paged, oldest first)."""
    offset, limit = params(request).paging(default_limit=DEFAULT_LIMIT, max_limit=MAX_LIMIT)
    found, total = await services(request).admin.integrations.page(actor(request), offset,
                                                                   limit)
    return ok([integration_json(integration) for integration in found],
              paging(offset, limit, total))


async def create_integration(request: web.Request) -> web.Response:
    """POST /admin/v3/integrations: the new integration with its `secret_key` (shown here and
    by the explicit fetch only)."""
    credentials = await services(request).admin.integrations.create(
        actor(request), _changes(params(request), creating=True))
    return ok({**integration_json(credentials.integration), "secret_key": credentials.skey})


async def get_integration(request: web.Request) -> web.Response:
    """GET /admin/v3/integrations/{ikey}."""
    integration = await services(request).admin.integrations.get(
        actor(request), request.match_info["ikey"])
    return ok(integration_json(integration))


async def update_integration(request: web.Request) -> web.Response:
    """POST /admin/v3/integrations/{ikey}."""
    integration = await services(request).admin.integrations.update(
        actor(request), request.match_info["ikey"], _changes(params(request), creating=False))
    return ok(integration_json(integration))


async def delete_integration(request: web.Request) -> web.Response:
    """DELETE /admin/v3/integrations/{ikey} (200 even if already gone)."""
    await services(request).admin.integrations.delete(actor(request),
                                                      request.match_info["ikey"])
    return ok("")


async def secret_key(request: web.Request) -> web.Response:
    """GET /admin/v1/integrations/{ikey}/skey."""
    skey = await services(request).admin.integrations.secret_key(actor(request),
                                                                 request.match_info["ikey"])
    return ok({"secret_key": skey})


def setup_routes(app: web.Application) -> None:
    """Mount the integration part of the Admin API."""
    router = app.router
    router.add_get("/admin/v3/integrations", list_integrations)
    router.add_post("/admin/v3/integrations", create_integration)
    router.add_get("/admin/v3/integrations/{ikey}", get_integration)
    router.add_post("/admin/v3/integrations/{ikey}", update_integration)
    router.add_delete("/admin/v3/integrations/{ikey}", delete_integration)
    router.add_get("/admin/v1/integrations/{ikey}/skey", secret_key)
