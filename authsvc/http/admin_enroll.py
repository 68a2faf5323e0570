"""Admin API enrollment handlers: enroll_user, bulk enrollment, user import, pending
enrollments.

Mounted before the ``/admin/v1/users/{user_id}`` routes, which would otherwise take
``/admin/v1/users/enroll`` and ``/admin/v1/users/import`` for a user id.
"""

from __future__ import annotations

from aiohttp import web

from authsvc.http.envelope import ok
from authsvc.http.middleware import actor, params, services

MAX_CSV_BYTES = 200_000
MAX_IMPORT_BYTES = 250_000


async def enroll_user(request: web.Request) -> web.Response:
    """POST /admin/v1/users/enroll: create the user if needed and mail an enrollment link."""
    args = params(request)
    result = await services(request).admin.users.enroll(
        actor(request), args.required_text("username", max_length=255),
        args.required_text("email"), args.integer("valid_secs"))
    return ok(result)


async def bulk_enroll(request: web.Request) -> web.Response:
    """POST /admin/v1/users/enroll/bulk (authsvc extension): `csv` of ``username,email``.

    Every row is checked first; a bad row fails the call and nothing happens.
    """
    args = params(request)
    return ok(await services(request).admin.account.bulk_enroll(
        actor(request), args.required_text("csv", max_length=MAX_CSV_BYTES),
        args.integer("valid_secs")))


async def import_users(request: web.Request) -> web.Response:
    """POST /admin/v1/users/import (authsvc extension): `csv` with a header line (docs/api.md);
    `dry_run=1` checks every row and changes nothing. A report entry per row."""
    args = params(request)
    report = await services(request).admin.users.import_users(
        actor(request), args.required_text("csv", max_length=MAX_IMPORT_BYTES),
        dry_run=args.flag("dry_run"))
    return ok({"rows": report.rows, "errors": report.errors})


async def security_key_enrollment(request: web.Request) -> web.Response:
    """POST /admin/v1/users/{user_id}/security_key_enrollment (authsvc extension): mail the user
    an enrollment link on which they register a security key themselves (admins cannot)."""
    args = params(request)
    return ok(await services(request).admin.users.security_key_enrollment(
        actor(request), request.match_info["user_id"], args.text("email"),
        args.integer("valid_secs")))


async def pending(request: web.Request) -> web.Response:
    """GET /admin/v1/enrollments (authsvc extension): pending enrollments with their expiry."""
    return ok(await services(request).admin.account.pending_enrollments(actor(request)))


async def resend(request: web.Request) -> web.Response:
    """POST /admin/v1/enrollments/{enrollment_id}/resend."""
    return ok(await services(request).admin.account.resend_enrollment(
        actor(request), request.match_info["enrollment_id"]))


async def delete(request: web.Request) -> web.Response:
    """DELETE /admin/v1/enrollments/{enrollment_id}: the link stops working."""
    await services(request).admin.account.delete_enrollment(actor(request),
                                                             request.match_info["enrollment_id"])
    return ok("")


def setup_routes(app: web.Application) -> None:
    """Mount the enrollment part of the Admin API."""
    router = app.router
    router.add_post("/admin/v1/users/enroll", enroll_user)
    router.add_post("/admin/v1/users/enroll/bulk", bulk_enroll)
    router.add_post("/admin/v1/users/import", import_users)
    router.add_post("/admin/v1/users/{user_id}/security_key_enrollment", security_key_enrollment)
    router.add_get("/admin/v1/enrollments", pending)
    router.add_post("/admin/v1/enrollments/{enrollment_id}/resend", resend)
    router.add_delete("/admin/v1/enrollments/{enrollment_id}", delete)
