"""2FA Devices (seed 003): phones and a phone's page (edit, delete, attach a user), hardware
tokens and a token's page (resync with three codes, delete, attach a user), token import from
CSV with a per-row report, security keys, bypass codes."""

from __future__ import annotations

from aiohttp import web

from authsvc.domain.admin.users import UserLookup
from authsvc.domain.phones import PhoneChanges
from authsvc.errors import InvalidParameter
from authsvc.http.middleware import services
from authsvc.http.panel.common import actor, form, page, see_other, text
from authsvc.http.panel.user_page import PLATFORMS
from authsvc.model.security_keys import KeyKind

PAGE = 50
PHONE = "/admin/phones/{phone_id:D[A-Z0-9]{1,40}}"
HARDWARE = "/admin/tokens/{token_id:D[A-Z0-9]{1,40}}"
TOKEN_TYPES = ("h6", "h8", "t6", "t8", "yk")
MAX_CSV = 2_000_000


def _offset(request: web.Request) -> int:
    try:
        offset = int(request.query.get("offset") or 0)
    except ValueError:
        raise InvalidParameter("offset") from None
    if offset < 0:
        raise InvalidParameter("offset")
    return offset


async def phones(request: web.Request) -> web.Response:
    """GET /admin/phones: phones and tablets with their users."""
    offset = _offset(request)
    views, total = await services(request).admin.devices.phones(actor(request), offset, PAGE)
    return page(request, "panel/phones.html", title="Phones", section="phones", views=views,
                total=total, offset=offset, size=PAGE)


async def phone(request: web.Request) -> web.Response:
    """GET /admin/phones/{phone_id}: the phone, its users, its actions."""
    view = await services(request).admin.devices.phone(actor(request),
                                                       request.match_info["phone_id"])
    return page(request, "panel/phone.html", title="Phone", section="phones", view=view,
                platforms=PLATFORMS)


async def edit_phone(request: web.Request) -> web.Response:
    """POST /admin/phones/{phone_id}/edit: type, platform, name, number."""
    fields = await form(request)
    await services(request).admin.devices.update_phone(
        actor(request), request.match_info["phone_id"], PhoneChanges(
            number=text(fields, "number", max_length=40).strip() or None,
            name=text(fields, "name", max_length=100),
            type=text(fields, "type", max_length=20) or None,
            platform=text(fields, "platform", max_length=40) or None))
    raise see_other(f"/admin/phones/{request.match_info['phone_id']}", "saved")


async def delete_phone(request: web.Request) -> web.Response:
    """POST /admin/phones/{phone_id}/delete: removed from every user at once."""
    await services(request).admin.devices.delete_phone(actor(request),
                                                       request.match_info["phone_id"])
    raise see_other("/admin/phones", "deleted")


async def attach_user(request: web.Request) -> web.Response:
    """POST /admin/phones/{phone_id}/attach: attach the phone to another user (by name)."""
    svc, who = services(request), actor(request)
    user_id = await _user_named(request)
    await svc.admin.devices.attach_phone(who, user_id, request.match_info["phone_id"])
    raise see_other(f"/admin/phones/{request.match_info['phone_id']}", "attached")


async def _user_named(request: web.Request) -> str:
    username = text(await form(request), "username", max_length=300)
    found = await services(request).admin.users.lookup(actor(request),
                                                       UserLookup(username=username))
    if not found:
        raise InvalidParameter("username (no such user)")
    return found[0].user.user_id


async def attach_token_user(request: web.Request) -> web.Response:
    """POST /admin/tokens/{token_id}/attach: attach the token to a user (by name)."""
    user_id = await _user_named(request)
    await services(request).admin.devices.assign_token(actor(request), user_id,
                                                       request.match_info["token_id"])
    raise see_other(f"/admin/tokens/{request.match_info['token_id']}", "attached")


async def tokens(request: web.Request) -> web.Response:
    """GET /admin/tokens: hardware tokens with their users."""
    offset = _offset(request)
    found, owners, total = await services(request).admin.devices.tokens(actor(request), offset,
                                                                        PAGE)
    return page(request, "panel/tokens.html", title="Hardware Tokens", section="tokens",
                tokens=found, owners=owners, total=total, offset=offset, size=PAGE)


async def token(request: web.Request) -> web.Response:
    """GET /admin/tokens/{token_id}: the token, its user, resync."""
    found, owners = await services(request).admin.devices.token(actor(request),
                                                               request.match_info["token_id"])
    return page(request, "panel/token.html", title=found[0].serial, section="tokens",
                token=found[0], owners=owners, error="")


async def resync(request: web.Request) -> web.Response:
    """POST /admin/tokens/{token_id}/resync: three consecutive codes."""
    fields = await form(request)
    codes = (text(fields, "code1", max_length=10).strip(),
             text(fields, "code2", max_length=10).strip(),
             text(fields, "code3", max_length=10).strip())
    await services(request).admin.devices.resync_token(actor(request),
                                                       request.match_info["token_id"], codes)
    raise see_other(f"/admin/tokens/{request.match_info['token_id']}", "resynced")


async def delete_token(request: web.Request) -> web.Response:
    """POST /admin/tokens/{token_id}/delete."""
    await services(request).admin.devices.delete_token(actor(request),
                                                       request.match_info["token_id"])
    raise see_other("/admin/tokens", "deleted")


async def import_form(request: web.Request) -> web.Response:
    """GET /admin/tokens/import: the token type and the vendor's CSV."""
    return page(request, "panel/tokens_import.html", title="Import Hardware Tokens",
                section="tokens", types=TOKEN_TYPES, report=None)


async def import_tokens(request: web.Request) -> web.Response:
    """POST /admin/tokens/import: import, then the report of every row."""
    fields = await form(request)
    token_type = text(fields, "type", max_length=4)
    csv_text = text(fields, "file", max_length=MAX_CSV) if isinstance(
        fields.get("file"), web.FileField) else ""
    csv_text = csv_text or text(fields, "csv", max_length=MAX_CSV)
    if not csv_text.strip():
        raise InvalidParameter("csv (paste the tokens, or choose a file)")
    report = await services(request).admin.devices.import_tokens(
        actor(request), csv_text, token_type, text(fields, "partial", max_length=2) == "1")
    return page(request, "panel/tokens_import.html", title="Import Hardware Tokens",
                section="tokens", types=TOKEN_TYPES, report=report)


async def security_keys(request: web.Request) -> web.Response:
    """GET /admin/security_keys: WebAuthn and U2F keys with their users."""
    svc, who = services(request), actor(request)
    webauthn, _ = await svc.admin.devices.keys(who, KeyKind.WEBAUTHN, 0, 200)
    u2f, _ = await svc.admin.devices.keys(who, KeyKind.U2F, 0, 200)
    return page(request, "panel/security_keys.html", title="Security Keys", section="keys",
                keys=[*webauthn, *u2f])


async def bypass_codes(request: web.Request) -> web.Response:
    """GET /admin/bypass_codes: every live bypass code (never the code itself)."""
    offset = _offset(request)
    codes, owners, total = await services(request).admin.devices.bypass_codes(
        actor(request), offset, PAGE)
    return page(request, "panel/bypass_codes.html", title="Bypass Codes", section="bypass",
                codes=codes, owners=owners, total=total, offset=offset, size=PAGE)


def setup_routes(app: web.Application) -> None:
    router = app.router
    router.add_get("/admin/phones", phones)
    router.add_get(PHONE, phone)
    router.add_post(PHONE + "/edit", edit_phone)
    router.add_post(PHONE + "/delete", delete_phone)
    router.add_post(PHONE + "/attach", attach_user)
    router.add_get("/admin/tokens", tokens)
    router.add_get("/admin/tokens/import", import_form)
    router.add_post("/admin/tokens/import", import_tokens)
    router.add_get(HARDWARE, token)
    router.add_post(HARDWARE + "/resync", resync)
    router.add_post(HARDWARE + "/delete", delete_token)
    router.add_post(HARDWARE + "/attach", attach_token_user)
    router.add_get("/admin/security_keys", security_keys)
    router.add_get("/admin/bypass_codes", bypass_codes)
