"""Enrollment (seed 002): bulk enrollment from CSV with a report per row, and the Pending
Enrollments table (seed 001) with Resend, Resend All and Delete."""

from __future__ import annotations

from aiohttp import web

from authsvc.errors import InvalidParameter
from authsvc.http.middleware import services
from authsvc.http.panel.common import actor, form, integer, page, see_other, text
from authsvc.model.permissions import Action

MAX_CSV = 1_000_000
ENROLLMENT = "/admin/enrollment/{enrollment_id:D[A-Z0-9]{1,40}}"


async def enrollment(request: web.Request) -> web.Response:
    """GET /admin/enrollment: bulk enrollment and the pending enrollments."""
    who = actor(request)
    pending = (await services(request).admin.account.pending_enrollments(who)
               if who.may(Action.MANAGE_PENDING_ENROLLMENTS) else [])
    return page(request, "panel/enrollment.html", title="Enrollment", section="enrollment",
                pending=pending, report=None, csv="")


async def bulk(request: web.Request) -> web.Response:
    """POST /admin/enrollment/bulk: ``username,email`` lines; the report of every row."""
    svc, who = services(request), actor(request)
    fields = await form(request)
    upload = fields.get("file")
    csv_text = text(fields, "file", max_length=MAX_CSV) if isinstance(upload, web.FileField) \
        else ""
    csv_text = csv_text or text(fields, "csv", max_length=MAX_CSV)
    if not csv_text.strip():
        raise InvalidParameter("csv (paste username,email lines, or choose a file)")
    days = integer(fields, "days", 30, 1, 30)
    try:
        report = await svc.admin.account.bulk_enroll(who, csv_text, days * 86_400)
        error = ""
    except InvalidParameter as exc:
        report, error = [], str(exc.message_detail or exc.message)
    pending = (await svc.admin.account.pending_enrollments(who)
               if who.may(Action.MANAGE_PENDING_ENROLLMENTS) else [])
    return page(request, "panel/enrollment.html", 400 if error else 200, title="Enrollment",
                section="enrollment", pending=pending, report=report, error=error,
                csv=csv_text if error else "")


async def resend(request: web.Request) -> web.Response:
    """POST /admin/enrollment/{enrollment_id}/resend: the same link again (same expiry)."""
    await services(request).admin.account.resend_enrollment(actor(request),
                                                            request.match_info["enrollment_id"])
    raise see_other("/admin/enrollment#pending", "sent")


async def resend_all(request: web.Request) -> web.Response:
    """POST /admin/enrollment/resend_all: every pending enrollment again."""
    svc, who = services(request), actor(request)
    for pending in await svc.admin.account.pending_enrollments(who):
        await svc.admin.account.resend_enrollment(who, str(pending["enrollment_id"]))
    raise see_other("/admin/enrollment#pending", "sent")


async def delete(request: web.Request) -> web.Response:
    """POST /admin/enrollment/{enrollment_id}/delete: the link stops working; the user stays."""
    await services(request).admin.account.delete_enrollment(actor(request),
                                                            request.match_info["enrollment_id"])
    raise see_other("/admin/enrollment#pending", "deleted")


def setup_routes(app: web.Application) -> None:
    router = app.router
    router.add_get("/admin/enrollment", enrollment)
    router.add_post("/admin/enrollment/bulk", bulk)
    router.add_post("/admin/enrollment/resend_all", resend_all)
    router.add_post(ENROLLMENT + "/resend", resend)
    router.add_post(ENROLLMENT + "/delete", delete)
