"""Admin API v1 user handlers: users, their tokens and their bypass codes (every call checked
and logged by `domain/admin/users.py`)."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

from aiohttp import web

from authsvc.domain.admin.users import UserLookup
from authsvc.domain.bypass import BypassRequest
from authsvc.domain.users import UserChanges
from authsvc.errors import InvalidParameter
from authsvc.http.envelope import ok
from authsvc.http.middleware import actor, params, services
from authsvc.http.params import Params
from authsvc.http.render import bypass_json, paging, token_json, user_json
from authsvc.model.users import MAX_ALIASES, UserDevices

USERS_MAX_LIMIT = 300
USERS_DEFAULT_LIMIT = 100
LOOKUP_MAX = 100


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


def _json_list(args: Params, key: str) -> list[str] | None:
    raw = args.text(key, max_length=100_000)
    if raw is None:
        return None
    try:
        wanted = json.loads(raw)
    except (ValueError, RecursionError):
        raise InvalidParameter(key) from None
    if not isinstance(wanted, list) or len(wanted) > LOOKUP_MAX:
        raise InvalidParameter(f"{key} (a JSON list of at most {LOOKUP_MAX})")
    return [str(item) for item in wanted]


def _lookup(args: Params) -> UserLookup | None:
    """The lookups by name/names/ids/email, or None for a plain listing."""
    lookup = UserLookup(username=args.text("username", max_length=255),
                        usernames=_json_list(args, "username_list"),
                        user_ids=_json_list(args, "user_id_list"), email=args.text("email"))
    if (lookup.username, lookup.usernames, lookup.user_ids, lookup.email) == (None,) * 4:
        return None
    return lookup


async def list_users(request: web.Request) -> web.Response:
    """GET /admin/v1/users (paged; or by username, username_list, user_id_list, email)."""
    admin, args = services(request).admin.users, params(request)
    lookup = _lookup(args)
    if lookup is not None:
        return ok([user_json(view) for view in await admin.lookup(actor(request), lookup)])
    offset, limit = args.paging(default_limit=USERS_DEFAULT_LIMIT, max_limit=USERS_MAX_LIMIT)
    views, total = await admin.page(actor(request), offset, limit)
    return ok([user_json(view) for view in views], paging(offset, limit, total))


async def add_user(request: web.Request) -> web.Response:
    """POST /admin/v1/users."""
    user = await services(request).admin.users.add(actor(request), _changes(params(request)))
    return ok(user_json(UserDevices(user, [], [], [])))


async def get_user(request: web.Request) -> web.Response:
    """GET /admin/v1/users/{user_id}."""
    view = await services(request).admin.users.get(actor(request), request.match_info["user_id"])
    return ok(user_json(view))


async def update_user(request: web.Request) -> web.Response:
    """POST /admin/v1/users/{user_id}."""
    view = await services(request).admin.users.update(
        actor(request), request.match_info["user_id"], _changes(params(request)))
    return ok(user_json(view))


async def delete_user(request: web.Request) -> web.Response:
    """DELETE /admin/v1/users/{user_id} (200 even if already gone, as Duo)."""
    await services(request).admin.users.delete(actor(request), request.match_info["user_id"])
    return ok("")


async def user_tokens(request: web.Request) -> web.Response:
    """GET /admin/v1/users/{user_id}/tokens."""
    svc, user_id = services(request), request.match_info["user_id"]
    view = await svc.admin.users.get(actor(request), user_id)
    tokens, user = view.tokens, view.user
    return ok([token_json(token, {user.user_id: user}) for token in tokens],
              paging(0, len(tokens), len(tokens)))


async def add_user_token(request: web.Request) -> web.Response:
    """POST /admin/v1/users/{user_id}/tokens."""
    token_id = params(request).required_text("token_id", max_length=64)
    await services(request).admin.devices.assign_token(
        actor(request), request.match_info["user_id"], token_id)
    return ok("")


async def delete_user_token(request: web.Request) -> web.Response:
    """DELETE /admin/v1/users/{user_id}/tokens/{token_id}."""
    match = request.match_info
    await services(request).admin.devices.unassign_token(actor(request), match["user_id"],
                                                          match["token_id"])
    return ok("")


def _bypass_request(args: Params) -> BypassRequest:
    codes_text = args.text("codes", max_length=1000)
    return BypassRequest(
        count=args.integer("count"),
        codes=codes_text.split(",") if codes_text is not None else None,
        reuse_count=args.integer("reuse_count"),
        valid_secs=args.integer("valid_secs"),
        preserve_existing=args.flag("preserve_existing"),
    )


async def add_user_bypass_codes(request: web.Request) -> web.Response:
    """POST /admin/v1/users/{user_id}/bypass_codes: the new codes, shown this once."""
    codes = await services(request).admin.users.issue_bypass_codes(
        actor(request), request.match_info["user_id"], _bypass_request(params(request)))
    return ok(codes)


async def user_bypass_codes(request: web.Request) -> web.Response:
    """GET /admin/v1/users/{user_id}/bypass_codes (metadata only)."""
    args = params(request)
    user, codes = await services(request).admin.users.bypass_codes(
        actor(request), request.match_info["user_id"])
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
