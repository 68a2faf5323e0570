"""A user's page (seed 001: details, aliases, status, phones, hardware tokens, security keys,
bypass codes, the user's authentication log) and "Verify with Duo Push" (seed 001, Verifying
Users with Duo Push), whose answer appears on the page as the phone gives it."""

from __future__ import annotations

from aiohttp import web

from authsvc.errors import InvalidParameter
from authsvc.http.middleware import services
from authsvc.http.panel.common import actor, form, page, text
from authsvc.model.admin_factors import PANEL_INTEGRATION
from authsvc.model.authlog import LogQuery
from authsvc.model.groups import GroupStanding, effective_status
from authsvc.model.permissions import Action
from authsvc.model.users import MAX_ALIASES

USER_LOG_DAYS = 30
USER_LOG_ROWS = 20
USER_LOG_SCAN = 5000
PLATFORMS = ("google android", "apple ios", "generic smartphone", "windows phone",
             "rim blackberry", "symbian os", "palm webos", "java j2me", "unknown")


async def user(request: web.Request) -> web.Response:
    """GET /admin/users/{user_id}: everything about one user, with what the role may do."""
    svc, who, user_id = services(request), actor(request), request.match_info["user_id"]
    view = await svc.admin.users.get(who, user_id)
    abilities = await svc.admin.users.abilities(who, view.user)
    _, codes = await svc.admin.users.bypass_codes(who, user_id)
    log = []
    if who.may(Action.READ_LOGS):
        now_ms = svc.clock.now_ms()
        log = (await svc.admin.account.authentication_log(who, LogQuery(
            mintime=now_ms - USER_LOG_DAYS * 86_400_000, maxtime=now_ms, limit=USER_LOG_ROWS,
            filters={"user.key": frozenset({user_id})}, count=False,
            scan_limit=USER_LOG_SCAN))).records
    aliases = [(slot, view.user.aliases.get(slot, "")) for slot in range(1, MAX_ALIASES + 1)]
    effective, deciding = effective_status(view.user.status, GroupStanding.of(view.groups, ""))
    joinable = []
    if who.may(Action.MANAGE_GROUPS):
        every, _ = await svc.admin.groups.page(who, 0, 500)
        joinable = [group for group in every if group not in view.groups]
    purge_at = await svc.admin.trash.purge_at(who, view.user) if view.user.in_trash else 0
    return page(request, "panel/user.html", title=view.user.username, section="users",
                view=view, can=abilities, codes=codes, log=log, aliases=aliases,
                purge_at=purge_at,
                activated=[phone for phone in view.phones if phone.activated],
                platforms=PLATFORMS, effective=effective, deciding=deciding,
                joinable=joinable)


async def verify_page(request: web.Request) -> web.Response:
    """GET /admin/users/{user_id}/verify: the push device, and Send."""
    svc, who, user_id = services(request), actor(request), request.match_info["user_id"]
    view = await svc.admin.users.get(who, user_id)
    return page(request, "panel/verify_push.html", title="Duo Push Verification",
                section="users", view=view,
                phones=[phone for phone in view.phones if phone.activated], sent=None)


async def verify_send(request: web.Request) -> web.Response:
    """POST /admin/users/{user_id}/verify: send the push; the confirmation code to read out."""
    svc, who, user_id = services(request), actor(request), request.match_info["user_id"]
    fields = await form(request)
    view = await svc.admin.users.get(who, user_id)
    phone_id = text(fields, "phone_id", max_length=40)
    if not phone_id:
        raise InvalidParameter("phone_id")
    sent = await svc.admin.users.send_verification_push(who, user_id, phone_id,
                                                        PANEL_INTEGRATION)
    return page(request, "panel/verify_push.html", title="Duo Push Verification",
                section="users", view=view, phones=[], sent=sent, result="waiting")


async def verify_status(request: web.Request) -> web.Response:
    """GET /admin/users/{user_id}/verify/{push_id}/status: the answer (a long poll), JSON."""
    answer = await services(request).admin.users.wait_verification_push(
        actor(request), request.match_info["user_id"], request.match_info["push_id"])
    messages = {"approve": "Approved", "deny": "Denied", "fraud": "Reported as fraud",
                "waiting": "Waiting for the user to answer…"}
    return web.json_response({"result": "waiting" if answer["result"] == "waiting" else "done",
                              "status_msg": messages.get(answer["result"], "Denied")},
                             headers={"Cache-Control": "no-store"})


async def verify_result(request: web.Request) -> web.Response:
    """GET /admin/users/{user_id}/verify/{push_id}: the answer as it stands."""
    svc, who, user_id = services(request), actor(request), request.match_info["user_id"]
    view = await svc.admin.users.get(who, user_id)
    answer = await svc.admin.users.verification_push_response(who, user_id,
                                                              request.match_info["push_id"])
    return page(request, "panel/verify_push.html", title="Duo Push Verification",
                section="users", view=view, phones=[],
                sent={"push_id": request.match_info["push_id"], "confirmation_code": ""},
                result=answer["result"])


def setup_routes(app: web.Application) -> None:
    router = app.router
    base = "/admin/users/{user_id:D[A-Z0-9]{1,40}}"
    router.add_get(base, user)
    router.add_get(base + "/verify", verify_page)
    router.add_post(base + "/verify", verify_send)
    router.add_get(base + "/verify/{push_id}/status", verify_status)
    router.add_get(base + "/verify/{push_id}", verify_result)
