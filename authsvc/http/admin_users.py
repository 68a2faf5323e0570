"""Admin API v1 user handlers: users, their tokens and their bypass codes."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

from aiohttp import web

from authsvc.domain.bypass import BypassRequest
from authsvc.domain.users import UserChanges
from authsvc.errors import InvalidParameter
from authsvc.http.envelope import ok
from authsvc.http.middleware import params, services
from authsvc.http.params import Params
from authsvc.http.render import bypass_json, paging, token_json, user_json
from authsvc.model.users import MAX_ALIASES, User, UserDevices
from authsvc.services import Services

USERS_MAX_LIMIT = 300
USERS_DEFAULT_LIMIT = 100


def _aliases(args: Params) -> tuple[dict[int, str], bool]:
    """alias1..alias8, or `aliases` (an object or ``alias1=a&alias2=b``) as the whole set."""
    slots = {slot: args.text(f"alias{slot}", max_length=255) for slot in range(1, MAX_ALIASES + 1)}
    given = {slot: name for slot, name in slots.items() if name is not None}
    if given:
        return given, False
    raw = args.raw("aliases")
    if raw is None:
        return {}, False
    pairs = raw.items() if isinstance(raw, dict) else parse_qsl(str(raw), keep_blank_values=True)
    aliases: dict[int, str] = {}
    for key, value in pairs:
        slot = str(key).removeprefix("alias")
        if not (slot.isascii() and slot.isdecimal() and len(slot) <= 2) \
                or not isinstance(value, str):
            raise InvalidParameter("aliases")
        aliases[int(slot)] = value
    return aliases, True


def _changes(args: Params) -> UserChanges:
    aliases, replace = _aliases(args)
    return UserChanges(
        username=args.text("username", max_length=255),
        realname=args.text("realname"),
        email=args.text("email"),
        notes=args.text("notes"),
        firstname=args.text("firstname"),
        lastname=args.text("lastname"),
        status=args.text("status"),
        aliases=aliases,
        replace_aliases=replace,
    )


async def _find_users(svc: Services, args: Params) -> list[User] | None:
    """The lookups by name/email/id list, or None for a plain listing."""
    name = args.text("username", max_length=255)
    if name is not None:
        user = await svc.users.by_name(name)
        return [user] if user else []
    for key, by_name in (("username_list", True), ("user_id_list", False)):
        raw = args.text(key, max_length=100_000)
        if raw is None:
            continue
        try:
            wanted = json.loads(raw)
        except (ValueError, RecursionError):
            raise InvalidParameter(key) from None
        if not isinstance(wanted, list) or len(wanted) > 100:
            raise InvalidParameter(f"{key} (a JSON list of at most 100)")
        names = [str(item) for item in wanted]
        return await (svc.users.by_names(names) if by_name else svc.users.get_many(names))
    email = args.text("email")
    if email is not None:
        return await svc.users.with_email(email)
    return None


async def list_users(request: web.Request) -> web.Response:
    """GET /admin/v1/users (paged; or by username, username_list, user_id_list, email)."""
    svc, args = services(request), params(request)
    found = await _find_users(svc, args)
    if found is not None:
        return ok([user_json(view) for view in await svc.users.with_devices(found)])
    offset, limit = args.paging(default_limit=USERS_DEFAULT_LIMIT, max_limit=USERS_MAX_LIMIT)
    views, total = await svc.users.page_with_devices(offset, limit)
    return ok([user_json(view) for view in views], paging(offset, limit, total))


async def add_user(request: web.Request) -> web.Response:
    """POST /admin/v1/users."""
    svc = services(request)
    user = await svc.users.add(_changes(params(request)))
    return ok(user_json(UserDevices(user, [], [], [])))


async def get_user(request: web.Request) -> web.Response:
    """GET /admin/v1/users/{user_id}."""
    svc = services(request)
    return ok(user_json(await svc.users.get_with_devices(request.match_info["user_id"])))


async def update_user(request: web.Request) -> web.Response:
    """POST /admin/v1/users/{user_id}."""
    svc = services(request)
    user = await svc.users.update(request.match_info["user_id"], _changes(params(request)))
    return ok(user_json(await svc.users.get_with_devices(user.user_id)))


async def delete_user(request: web.Request) -> web.Response:
    """DELETE /admin/v1/users/{user_id} (200 even if already gone, as Duo)."""
    await services(request).users.delete(request.match_info["user_id"])
    return ok("")


async def user_tokens(request: web.Request) -> web.Response:
    """GET /admin/v1/users/{user_id}/tokens."""
    svc = services(request)
    user = await svc.users.get(request.match_info["user_id"])
    tokens = await svc.tokens.of_user(user.user_id)
    return ok([token_json(token, {user.user_id: user}) for token in tokens],
              paging(0, len(tokens), len(tokens)))


async def add_user_token(request: web.Request) -> web.Response:
    """POST /admin/v1/users/{user_id}/tokens."""
    token_id = params(request).required_text("token_id", max_length=64)
    await services(request).tokens.assign(request.match_info["user_id"], token_id)
    return ok("")


async def delete_user_token(request: web.Request) -> web.Response:
    """DELETE /admin/v1/users/{user_id}/tokens/{token_id}."""
    match = request.match_info
    await services(request).tokens.unassign(match["user_id"], match["token_id"])
    return ok("")


async def add_user_bypass_codes(request: web.Request) -> web.Response:
    """POST /admin/v1/users/{user_id}/bypass_codes: the new codes, shown this once."""
    args = params(request)
    codes_text = args.text("codes", max_length=1000)
    bypass_request = BypassRequest(
        count=args.integer("count"),
        codes=codes_text.split(",") if codes_text is not None else None,
        reuse_count=args.integer("reuse_count", default=1) or 0,
        valid_secs=args.integer("valid_secs", default=0) or 0,
        preserve_existing=args.flag("preserve_existing"),
    )
    codes = await services(request).bypass.issue(request.match_info["user_id"], bypass_request)
    return ok(codes)


async def user_bypass_codes(request: web.Request) -> web.Response:
    """GET /admin/v1/users/{user_id}/bypass_codes (metadata only)."""
    svc, args = services(request), params(request)
    user = await svc.users.get(request.match_info["user_id"])
    codes = await svc.bypass.of_user(user.user_id)
    offset, limit = args.paging(default_limit=USERS_DEFAULT_LIMIT, max_limit=USERS_MAX_LIMIT)
    page = codes[offset:offset + limit]
    return ok([bypass_json(code, {user.user_id: user}) for code in page],
              paging(offset, limit, len(codes)))


def setup_routes(app: web.Application) -> None:
    """Mount the user part of the Admin API."""
    router = app.router
    router.add_get("/admin/v1/users", list_users)
    router.add_post("/admin/v1/users", add_user)
    router.add_get("/admin/v1/users/{user_id}", get_user)
    router.add_post("/admin/v1/users/{user_id}", update_user)
    router.add_delete("/admin/v1/users/{user_id}", delete_user)
    router.add_get("/admin/v1/users/{user_id}/tokens", user_tokens)
    router.add_post("/admin/v1/users/{user_id}/tokens", add_user_token)
    router.add_delete("/admin/v1/users/{user_id}/tokens/{token_id}", delete_user_token)
    router.add_get("/admin/v1/users/{user_id}/bypass_codes", user_bypass_codes)
    router.add_post("/admin/v1/users/{user_id}/bypass_codes", add_user_bypass_codes)

