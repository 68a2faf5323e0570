"""Admin API handlers for account-wide objects: settings, all bypass codes, the auth log."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from authsvc.domain.authlog import FILTER_FIELDS, build_query
from authsvc.http.envelope import ok
from authsvc.http.middleware import actor, params, services
from authsvc.http.render import bypass_json, paging

BYPASS_MAX_LIMIT = 500
BYPASS_DEFAULT_LIMIT = 100
DAY_MS = 86_400_000


async def get_settings(request: web.Request) -> web.Response:
    """GET /admin/v1/settings."""
    return ok((await services(request).admin.account.settings(actor(request))).as_response())


async def update_settings(request: web.Request) -> web.Response:
    """POST /admin/v1/settings: every field validated before anything is stored."""
    args = params(request)
    settings = await services(request).admin.account.update_settings(
        actor(request), {name: args.raw(name) for name in args.names()})
    return ok(settings.as_response())


async def list_bypass_codes(request: web.Request) -> web.Response:
    """GET /admin/v1/bypass_codes (metadata of every live code)."""
    args = params(request)
    offset, limit = args.paging(default_limit=BYPASS_DEFAULT_LIMIT, max_limit=BYPASS_MAX_LIMIT)
    codes, owners, total = await services(request).admin.devices.bypass_codes(
        actor(request), offset, limit)
    return ok([bypass_json(code, owners) for code in codes], paging(offset, limit, total))


async def delete_bypass_code(request: web.Request) -> web.Response:
    """DELETE /admin/v1/bypass_codes/{bypass_code_id}."""
    await services(request).admin.devices.delete_bypass_code(
        actor(request), request.match_info["bypass_code_id"])
    return ok("")


async def authentication_log_v2(request: web.Request) -> web.Response:
    """GET /admin/v2/logs/authentication (mintime/maxtime in ms, filters, next_offset)."""
    svc, args = services(request), params(request)
    now_ms = svc.clock.now_ms()
    query = build_query(
        mintime=args.integer("mintime", default=now_ms - DAY_MS) or 0,
        maxtime=args.integer("maxtime", default=now_ms) or 0,
        limit=args.integer("limit"),
        sort=args.text("sort"),
        next_offset=args.items("next_offset"),
        filters={name: args.items(name) for name in FILTER_FIELDS},
    )
    page = await svc.admin.account.authentication_log(actor(request), query)
    metadata: dict[str, Any] = {"total_objects": page.total}
    if page.next_offset is not None:
        metadata["next_offset"] = [str(page.next_offset[0]), page.next_offset[1]]
    return ok({"authlogs": page.records, "metadata": metadata})


async def telephony_log_v1(request: web.Request) -> web.Response:
    """GET /admin/v1/logs/telephony?mintime=<s>: the 1,000 oldest records from mintime on."""
    svc, args = services(request), params(request)
    mintime_s = args.integer("mintime", default=0, minimum=0, maximum=2**40) or 0
    query = build_query(mintime=mintime_s * 1000, maxtime=svc.clock.now_ms(), limit=1000,
                        sort="ts:asc", next_offset=[], filters={})
    page = await svc.admin.account.telephony_log(actor(request), query)
    return ok([{"timestamp": int(record["ts"]), "context": record["context"],
                "type": record["type"], "phone": record["phone"],
                "credits": record["credits"]} for record in page.records])


async def telephony_log_v2(request: web.Request) -> web.Response:
    """GET /admin/v2/logs/telephony (ms window, limit, sort, next_offset)."""
    svc, args = services(request), params(request)
    now_ms = svc.clock.now_ms()
    query = build_query(
        mintime=args.integer("mintime", default=now_ms - 180 * DAY_MS) or 0,
        maxtime=args.integer("maxtime", default=now_ms) or 0,
        limit=args.integer("limit"), sort=args.text("sort"),
        next_offset=args.items("next_offset"), filters={})
    page = await svc.admin.account.telephony_log(actor(request), query)
    items = [{"context": r["context"], "credits": r["credits"], "phone": r["phone"],
              "telephony_id": r["telephony_id"], "txid": r["txid"], "type": r["type"],
              "ts": datetime.fromtimestamp(r["ts"], UTC).isoformat(timespec="milliseconds")}
             for r in page.records]
    metadata: dict[str, Any] = {"total_objects": {"relation": "eq", "value": page.total}}
    if page.next_offset is not None:
        metadata["next_offset"] = f"{page.next_offset[0]},{page.next_offset[1]}"
    return ok({"items": items, "metadata": metadata})


def setup_routes(app: web.Application) -> None:
    """Mount the account part of the Admin API."""
    router = app.router
    router.add_get("/admin/v1/settings", get_settings)
    router.add_post("/admin/v1/settings", update_settings)
    router.add_get("/admin/v1/bypass_codes", list_bypass_codes)
    router.add_delete("/admin/v1/bypass_codes/{bypass_code_id}", delete_bypass_code)
    router.add_get("/admin/v2/logs/authentication", authentication_log_v2)
    router.add_get("/admin/v1/logs/telephony", telephony_log_v1)
    router.add_get("/admin/v2/logs/telephony", telephony_log_v2)
