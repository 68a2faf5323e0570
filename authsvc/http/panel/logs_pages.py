"""Logs (seed 000: "View and download logs"): the authentication log with filters, paging and
CSV export, the administrator log, the telephony log."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from authsvc.domain.admin.users import UserLookup
from authsvc.errors import InvalidParameter
from authsvc.http.middleware import services
from authsvc.http.panel.common import actor, csv_bytes, page
from authsvc.http.web import secure_headers
from authsvc.model.authlog import LogPage, LogQuery

PAGE = 50
WINDOWS = {"1": 1, "24": 24, "168": 168, "720": 720}
RESULTS = ("success", "denied", "fraud")
EXPORT_PAGE = 1000
EXPORT_MAX = 100_000
CSV_COLUMNS = ("isotimestamp", "user", "result", "reason", "factor", "application", "ip",
               "device", "txid")


def _window(request: web.Request) -> tuple[int, int, str]:
    hours = request.query.get("hours", "24")
    if hours not in WINDOWS:
        raise InvalidParameter("hours")
    now_ms = services(request).clock.now_ms()
    return now_ms - WINDOWS[hours] * 3_600_000, now_ms, hours


def _cursor(request: web.Request) -> str | None:
    after = request.query.get("after", "")
    if after and not all(part.isdigit() for part in after.split("-", 1)):
        raise InvalidParameter("after")
    return after or None


async def _auth_query(request: web.Request, limit: int) -> tuple[LogQuery, dict[str, str]]:
    args = request.query
    mintime, maxtime, hours = _window(request)
    chosen = {"hours": hours, "user": args.get("user", "")[:300],
              "result": args.get("result", ""), "factor": args.get("factor", "")[:40],
              "reason": args.get("reason", "")[:60], "application": args.get("application", "")[:40]}
    filters: dict[str, frozenset[str]] = {}
    if chosen["user"]:
        found = await services(request).admin.users.lookup(actor(request),
                                                           UserLookup(username=chosen["user"]))
        filters["user.key"] = frozenset({found[0].user.user_id} if found else {"-"})
    if chosen["result"]:
        if chosen["result"] not in RESULTS:
            raise InvalidParameter("result")
        filters["result"] = frozenset({chosen["result"]})
    for name, path in (("factor", "factor"), ("reason", "reason"),
                       ("application", "application.key")):
        if chosen[name]:
            filters[path] = frozenset({chosen[name]})
    return LogQuery(mintime=mintime, maxtime=maxtime, limit=limit, after=_cursor(request),
                    filters=filters), chosen


async def authentication(request: web.Request) -> web.Response:
    """GET /admin/logs/authentication: newest first, filtered, paged by cursor."""
    query, chosen = await _auth_query(request, PAGE)
    found = await services(request).admin.account.authentication_log(actor(request), query)
    return page(request, "panel/authlog.html", title="Authentication Log", section="authlog",
                found=found, chosen=chosen, results=RESULTS, windows=WINDOWS,
                next_after=found.next_offset[1] if found.next_offset else "")


def _csv_row(record: dict[str, Any]) -> list[str]:
    device = record.get("access_device") or {}
    return [str(record.get("isotimestamp", "")), str((record.get("user") or {}).get("name", "")),
            str(record.get("result", "")), str(record.get("reason", "")),
            str(record.get("factor", "")),
            str((record.get("application") or {}).get("name", "")), str(device.get("ip") or ""),
            str((record.get("auth_device") or {}).get("name") or ""), str(record.get("txid", ""))]


async def authentication_csv(request: web.Request) -> web.StreamResponse:
    """GET /admin/logs/authentication.csv: the filtered view, every page, as CSV."""
    query, _ = await _auth_query(request, EXPORT_PAGE)
    admin = services(request).admin.account
    found: LogPage = await admin.authentication_log(actor(request), query)
    response = web.StreamResponse(headers={
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": 'attachment; filename="authentication-log.csv"'})
    secure_headers(request, response)
    await response.prepare(request)
    await response.write(csv_bytes([list(CSV_COLUMNS)]))
    written = 0
    while True:
        await response.write(csv_bytes([_csv_row(record) for record in found.records]))
        written += len(found.records)
        if found.next_offset is None or written >= EXPORT_MAX:
            break
        query = LogQuery(mintime=query.mintime, maxtime=query.maxtime, limit=EXPORT_PAGE,
                         after=found.next_offset[1], filters=query.filters)
        found = await admin.authentication_log(actor(request), query)
    await response.write_eof()
    return response


async def administrator(request: web.Request) -> web.Response:
    """GET /admin/logs/administrator: every change by an administrator or integration."""
    mintime, maxtime, hours = _window(request)
    action = request.query.get("action", "")[:60]
    query = LogQuery(mintime=mintime, maxtime=maxtime, limit=PAGE, after=_cursor(request),
                     filters={"action": frozenset({action})} if action else {})
    found = await services(request).admin.account.administrator_log_page(actor(request), query)
    return page(request, "panel/adminlog.html", title="Administrator Log", section="adminlog",
                found=found, hours=hours, action=action, windows=WINDOWS,
                next_after=found.next_offset[1] if found.next_offset else "")


async def telephony(request: web.Request) -> web.Response:
    """GET /admin/logs/telephony: every SMS and call, with credits."""
    mintime, maxtime, hours = _window(request)
    query = LogQuery(mintime=mintime, maxtime=maxtime, limit=PAGE, after=_cursor(request))
    found = await services(request).admin.account.telephony_log(actor(request), query)
    return page(request, "panel/telephony.html", title="Telephony Log", section="telephony",
                found=found, hours=hours, windows=WINDOWS,
                next_after=found.next_offset[1] if found.next_offset else "")


def setup_routes(app: web.Application) -> None:
    router = app.router
    router.add_get("/admin/logs/authentication", authentication)
    router.add_get("/admin/logs/authentication.csv", authentication_csv)
    router.add_get("/admin/logs/administrator", administrator)
    router.add_get("/admin/logs/telephony", telephony)
