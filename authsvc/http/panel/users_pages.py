"""The Users page (seed 001, Listing Users): search, a status filter, paging, bulk actions; and
Add User (seed 001, Creating Users Manually)."""

from __future__ import annotations

from aiohttp import web

from authsvc.domain.admin.directory import UserQuery
from authsvc.domain.users import UserChanges
from authsvc.errors import InvalidParameter
from authsvc.http.middleware import services
from authsvc.http.panel.common import actor, csv_bytes, form, page, see_other, text
from authsvc.http.web import secure_headers, when
from authsvc.model.permissions import Action
from authsvc.model.users import UserDevices, UserStatus

PAGE_SIZES = (25, 50, 100)
BULK_ACTIONS = ("trash", "enrollment")
MAX_BULK = 100


def _query(request: web.Request) -> UserQuery:
    args = request.query
    try:
        offset = int(args.get("offset") or 0)
        limit = int(args.get("limit") or 50)
    except ValueError:
        raise InvalidParameter("offset or limit") from None
    if limit not in PAGE_SIZES:
        raise InvalidParameter("limit (25, 50 or 100)")
    return UserQuery(text=args.get("q", "")[:64], status=args.get("status", ""),
                     offset=offset, limit=limit)


async def users(request: web.Request) -> web.Response:
    """GET /admin/users: a page of users (search, status, offset, limit in the query)."""
    svc, who, query = services(request), actor(request), _query(request)
    found = await svc.panel.finder.find(who, query)
    counts = await svc.panel.dashboard.counts(who) \
        if who.may(Action.READ_SUMMARY) and not who.scope.restricted else {}
    return page(request, "panel/users.html", title="Users", section="users", found=found,
                query=query, statuses=[status.value for status in UserStatus],
                sizes=PAGE_SIZES, view={"counts": counts})


async def bulk(request: web.Request) -> web.Response:
    """POST /admin/users/bulk: send the selected users to the Trash, or (re)send their
    enrollment emails."""
    fields = await form(request)
    action = text(fields, "action", max_length=20)
    if action not in BULK_ACTIONS:
        raise InvalidParameter("action")
    user_ids = [value for value in fields.getall("user_id") if isinstance(value, str)]
    if not user_ids or len(user_ids) > MAX_BULK:
        raise InvalidParameter(f"user_id (select 1 to {MAX_BULK} users)")
    report = await services(request).panel.bulk.run(actor(request), action, user_ids)
    return page(request, "panel/bulk_report.html", title="Bulk action", section="users",
                action=action, report=report)


async def new_user_form(request: web.Request) -> web.Response:
    """GET /admin/users/new: the username (then the user's page)."""
    return page(request, "panel/user_new.html", title="Add User", section="add-user",
                error="", username="")


async def create_user(request: web.Request) -> web.Response:
    """POST /admin/users/new: create the user, then its page."""
    fields = await form(request)
    username = text(fields, "username", max_length=300)
    try:
        user = await services(request).admin.users.add(actor(request),
                                                       UserChanges(username=username))
    except InvalidParameter as exc:
        return page(request, "panel/user_new.html", 400, title="Add User", section="add-user",
                    error=str(exc.message_detail or exc.message), username=username)
    raise see_other(f"/admin/users/{user.user_id}", "created")


EXPORT_PAGE = 500
CSV_HEADER = ["username", "full name", "email", "status", "phones", "tokens", "last login"]


def _csv_row(view: UserDevices) -> list[str]:
    user = view.user
    return [user.username, user.realname, user.email, user.status.value, str(len(view.phones)),
            str(len(view.tokens)), when(user.last_login)]


async def export(request: web.Request) -> web.StreamResponse:
    """GET /admin/users.csv: the view as filtered (every user when not), as CSV."""
    svc, who, query = services(request), actor(request), _query(request)
    response = web.StreamResponse(headers={
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": 'attachment; filename="users.csv"'})
    found = await svc.panel.finder.find(who, UserQuery(text=query.text, status=query.status,
                                                       offset=0, limit=MAX_BULK))
    secure_headers(request, response)
    await response.prepare(request)
    await response.write(csv_bytes([CSV_HEADER]))
    if query.text or query.status:
        await response.write(csv_bytes([_csv_row(view) for view in found.users]))
    else:
        offset = 0
        while True:
            views, total = await svc.admin.users.page(who, offset, EXPORT_PAGE)
            await response.write(csv_bytes([_csv_row(view) for view in views]))
            offset += EXPORT_PAGE
            if offset >= total:
                break
    await response.write_eof()
    return response


def setup_routes(app: web.Application) -> None:
    router = app.router
    router.add_get("/admin/users", users)
    router.add_get("/admin/users.csv", export)
    router.add_post("/admin/users/bulk", bulk)
    router.add_get("/admin/users/new", new_user_form)
    router.add_post("/admin/users/new", create_user)
