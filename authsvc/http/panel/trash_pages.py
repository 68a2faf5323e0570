"""The Trash (seed 001, Deleting and Restoring Users): users sent there with when they will be
deleted for good; restore (back Disabled, devices kept) or delete now, one user or those
selected; and Import Users (seed 001, Creating Users from CSV Import) with its report."""

from __future__ import annotations

from aiohttp import web

from authsvc.errors import AuthsvcError, Forbidden, InvalidParameter
from authsvc.http.middleware import services
from authsvc.http.panel.common import actor, form, page, see_other, text

PAGE = 100
MAX_CSV = 2_000_000
USER = "/admin/trash/{user_id:D[A-Z0-9]{1,40}}"


async def trash(request: web.Request) -> web.Response:
    """GET /admin/trash: the users in the Trash, the oldest first."""
    try:
        offset = max(int(request.query.get("offset") or 0), 0)
    except ValueError:
        raise InvalidParameter("offset") from None
    entries, total = await services(request).admin.trash.page(actor(request), offset, PAGE)
    return page(request, "panel/trash.html", title="Trash", section="trash", entries=entries,
                total=total, offset=offset, size=PAGE, report=None)


async def restore(request: web.Request) -> web.Response:
    """POST /admin/trash/{user_id}/restore: back to the users, Disabled."""
    view = await services(request).admin.trash.restore(actor(request),
                                                       request.match_info["user_id"])
    raise see_other(f"/admin/users/{view.user.user_id}", "restored")


async def delete_now(request: web.Request) -> web.Response:
    """POST /admin/trash/{user_id}/delete: deleted for good, now."""
    await services(request).admin.trash.delete_now(actor(request), request.match_info["user_id"])
    raise see_other("/admin/trash", "deleted")


async def bulk(request: web.Request) -> web.Response:
    """POST /admin/trash/bulk: restore or delete now the selected users (up to 100); a role
    that may not is refused at the first user, before anything changes."""
    svc, who = services(request), actor(request)
    fields = await form(request)
    action = text(fields, "action", max_length=20)
    user_ids = [value for value in fields.getall("user_id") if isinstance(value, str)]
    if action not in ("restore", "delete") or not 1 <= len(user_ids) <= PAGE:
        raise InvalidParameter("action, user_id (1 to 100 users)")
    report = []
    for user_id in dict.fromkeys(user_ids):
        try:
            if action == "restore":
                await svc.admin.trash.restore(who, user_id)
            else:
                await svc.admin.trash.delete_now(who, user_id)
            report.append((user_id, True, "restored" if action == "restore" else "deleted"))
        except Forbidden:
            raise
        except AuthsvcError as error:
            report.append((user_id, False, str(error.message_detail or error.message)))
    entries, total = await svc.admin.trash.page(who, 0, PAGE)
    return page(request, "panel/trash.html", title="Trash", section="trash", entries=entries,
                total=total, offset=0, size=PAGE, report=report)


async def import_form(request: web.Request) -> web.Response:
    """GET /admin/users/import: the CSV and a dry run."""
    return page(request, "panel/import.html", title="Import Users", section="import",
                report=None, dry_run=False)


async def import_users(request: web.Request) -> web.Response:
    """POST /admin/users/import: import (or try) the CSV; the report of every row."""
    fields = await form(request)
    upload = fields.get("file")
    csv_text = text(fields, "file", max_length=MAX_CSV) if isinstance(upload, web.FileField) \
        else ""
    csv_text = csv_text or text(fields, "csv", max_length=MAX_CSV)
    if not csv_text.strip():
        raise InvalidParameter("csv (paste the users, or choose a file)")
    dry_run = text(fields, "dry_run", max_length=2) == "1"
    report = await services(request).admin.users.import_users(actor(request), csv_text,
                                                              dry_run=dry_run)
    return page(request, "panel/import.html", title="Import Users", section="import",
                report=report, dry_run=dry_run)


def setup_routes(app: web.Application) -> None:
    router = app.router
    router.add_get("/admin/trash", trash)
    router.add_post("/admin/trash/bulk", bulk)
    router.add_post(USER + "/restore", restore)
    router.add_post(USER + "/delete", delete_now)
    router.add_get("/admin/users/import", import_form)
    router.add_post("/admin/users/import", import_users)
