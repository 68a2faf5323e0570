"""Admin API Administrative Units (``/admin/v1/administrative_units``), as Duo documents them
and duo_client calls them (`get_administrative_units`; the other calls through
`json_api_call`). Every call is checked and logged by `domain/admin/units.py`."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from authsvc.domain.units import PARAM, UnitChanges
from authsvc.errors import InvalidParameter
from authsvc.http.envelope import ok
from authsvc.http.middleware import actor, params, services
from authsvc.http.params import Params
from authsvc.http.render import paging
from authsvc.model.units import MAX_UNIT_MEMBERS, AdminUnit, MemberKind

UNITS_MAX_LIMIT = 100
_FILTERS = {"admin_id": MemberKind.ADMIN, "group_id": MemberKind.GROUP,
            "integration_key": MemberKind.INTEGRATION}
_BASE = "/admin/v1/administrative_units"


def unit_json(unit: AdminUnit, *, members: bool) -> dict[str, Any]:
    """Duo's administrative unit object; `members`: with its admins, groups, integrations."""
    shown: dict[str, Any] = {
        "admin_unit_id": unit.admin_unit_id, "name": unit.name, "description": unit.description,
        "restrict_by_groups": unit.restrict_by_groups,
        "restrict_by_integrations": unit.restrict_by_integrations}
    if members:
        shown.update(admins=list(unit.admins), groups=list(unit.groups),
                     integrations=list(unit.integrations))
    return shown


def _optional_flag(args: Params, name: str) -> bool | None:
    return None if args.raw(name) is None else args.flag(name)


def _changes(args: Params) -> UnitChanges:
    members: dict[MemberKind, list[str]] = {}
    for kind, name in PARAM.items():
        if args.raw(name) is not None:
            ids = args.items(name)
            if len(ids) > MAX_UNIT_MEMBERS or any(len(i) > 64 for i in ids):
                raise InvalidParameter(f"{name} (at most {MAX_UNIT_MEMBERS} ids)")
            members[kind] = [member_id.strip() for member_id in ids]
    return UnitChanges(
        name=args.text("name", max_length=1000),
        description=args.text("description", max_length=5000),
        restrict_by_groups=_optional_flag(args, "restrict_by_groups"),
        restrict_by_integrations=_optional_flag(args, "restrict_by_integrations"),
        members=members)


def _filter(args: Params) -> tuple[MemberKind | None, str | None]:
    sent = [(kind, value) for name, kind in _FILTERS.items()
            if (value := args.text(name, max_length=64)) is not None]
    if len(sent) > 1:
        raise InvalidParameter("admin_id, group_id, integration_key (at most one)")
    return sent[0] if sent else (None, None)


async def list_units(request: web.Request) -> web.Response:
    """GET /admin/v1/administrative_units (paged; filtered by admin_id, group_id or
    integration_key)."""
    args = params(request)
    kind, member_id = _filter(args)
    offset, limit = args.paging(default_limit=UNITS_MAX_LIMIT, max_limit=UNITS_MAX_LIMIT)
    units, total = await services(request).admin.units.page(
        actor(request), offset, limit, kind=kind, member_id=member_id)
    return ok([unit_json(unit, members=False) for unit in units], paging(offset, limit, total))


async def get_unit(request: web.Request) -> web.Response:
    """GET /admin/v1/administrative_units/{admin_unit_id}."""
    unit = await services(request).admin.units.get(actor(request),
                                                   request.match_info["admin_unit_id"])
    return ok(unit_json(unit, members=True))


async def create_unit(request: web.Request) -> web.Response:
    """POST /admin/v1/administrative_units."""
    unit = await services(request).admin.units.create(actor(request), _changes(params(request)))
    return ok(unit_json(unit, members=True))


async def modify_unit(request: web.Request) -> web.Response:
    """POST /admin/v1/administrative_units/{admin_unit_id}."""
    unit = await services(request).admin.units.update(
        actor(request), request.match_info["admin_unit_id"], _changes(params(request)))
    return ok(unit_json(unit, members=True))


async def delete_unit(request: web.Request) -> web.Response:
    """DELETE /admin/v1/administrative_units/{admin_unit_id}."""
    await services(request).admin.units.delete(actor(request),
                                               request.match_info["admin_unit_id"])
    return ok("")


def _membership(kind: MemberKind, *, add: bool) -> Any:
    async def handler(request: web.Request) -> web.Response:
        """POST|DELETE /admin/v1/administrative_units/{admin_unit_id}/<kind>/{member}."""
        units, match = services(request).admin.units, request.match_info
        change = units.add if add else units.remove
        await change(actor(request), match["admin_unit_id"], kind, match["member"])
        return ok("")
    return handler


def setup_routes(app: web.Application) -> None:
    """Mount the Administrative Units."""
    router = app.router
    router.add_get(_BASE, list_units)
    router.add_post(_BASE, create_unit)
    router.add_get(_BASE + "/{admin_unit_id}", get_unit)
    router.add_post(_BASE + "/{admin_unit_id}", modify_unit)
    router.add_delete(_BASE + "/{admin_unit_id}", delete_unit)
    for kind in MemberKind:
        path = f"{_BASE}/{{admin_unit_id}}/{kind.value}/{{member}}"
        router.add_post(path, _membership(kind, add=True))
        router.add_delete(path, _membership(kind, add=False))
