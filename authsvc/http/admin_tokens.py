"""Admin API v1 hardware token handlers (``/admin/v1/tokens``)."""

from __future__ import annotations

from aiohttp import web

from authsvc.domain.tokens import NewToken
from authsvc.http.envelope import ok
from authsvc.http.middleware import actor, params, services
from authsvc.http.render import paging, token_json
from authsvc.model.tokens import Token, TokenType
from authsvc.model.users import User

TOKENS_MAX_LIMIT = 500
YUBIKEY = TokenType.YUBIKEY.value
MAX_IMPORT_BYTES = 4_000_000
TOKENS_DEFAULT_LIMIT = 100


def _render(tokens: list[Token], owners: dict[str, User]) -> list[dict[str, object]]:
    return [token_json(token, owners) for token in tokens]


async def list_tokens(request: web.Request) -> web.Response:
    """GET /admin/v1/tokens (paged; or ?type=&serial= for one token)."""
    devices, args = services(request).admin.devices, params(request)
    serial = args.text("serial", max_length=1024)
    if serial is not None:
        return ok(_render(*await devices.tokens_by_serial(actor(request), serial,
                                                          args.text("type"))))
    offset, limit = args.paging(default_limit=TOKENS_DEFAULT_LIMIT, max_limit=TOKENS_MAX_LIMIT)
    tokens, owners, total = await devices.tokens(actor(request), offset, limit)
    return ok(_render(tokens, owners), paging(offset, limit, total))


async def add_token(request: web.Request) -> web.Response:
    """POST /admin/v1/tokens (types h6, h8, t6, t8; `secret` in hex)."""
    args = params(request)
    token_type = args.required_text("type")
    new = NewToken(
        type=token_type,
        serial=args.required_text("serial", max_length=1024),
        secret=(args.text("secret", max_length=1024) or "") if token_type == YUBIKEY
        else args.required_text("secret", max_length=1024),
        private_id=args.text("private_id", max_length=64) or "",
        aes_key=args.text("aes_key", max_length=64) or "",
        counter=args.integer("counter", default=0) or 0,
        totp_step=args.integer("totp_step", default=30) or 30,
    )
    token = await services(request).admin.devices.add_token(actor(request), new)
    return ok(token_json(token, {}))


async def get_token(request: web.Request) -> web.Response:
    """GET /admin/v1/tokens/{token_id}."""
    found = await services(request).admin.devices.token(actor(request),
                                                         request.match_info["token_id"])
    return ok(_render(*found)[0])


async def delete_token(request: web.Request) -> web.Response:
    """DELETE /admin/v1/tokens/{token_id} (200 even if already gone, as Duo)."""
    await services(request).admin.devices.delete_token(actor(request),
                                                        request.match_info["token_id"])
    return ok("")


async def resync_token(request: web.Request) -> web.Response:
    """POST /admin/v1/tokens/{token_id}/resync with code1, code2, code3."""
    args = params(request)
    codes = (args.required_text("code1", max_length=16), args.required_text("code2", max_length=16),
             args.required_text("code3", max_length=16))
    await services(request).admin.devices.resync_token(actor(request),
                                                        request.match_info["token_id"], codes)
    return ok("")


async def import_tokens(request: web.Request) -> web.Response:
    """POST /admin/v1/tokens/import (authsvc extension): `type`, `csv`, `partial`."""
    args = params(request)
    report = await services(request).admin.devices.import_tokens(
        actor(request), args.required_text("csv", max_length=MAX_IMPORT_BYTES),
        args.required_text("type"), partial=args.flag("partial"))
    return ok(report.rows)


def setup_routes(app: web.Application) -> None:
    """Mount the token part of the Admin API."""
    router = app.router
    router.add_get("/admin/v1/tokens", list_tokens)
    router.add_post("/admin/v1/tokens", add_token)
    router.add_post("/admin/v1/tokens/import", import_tokens)
    router.add_get("/admin/v1/tokens/{token_id}", get_token)
    router.add_delete("/admin/v1/tokens/{token_id}", delete_token)
    router.add_post("/admin/v1/tokens/{token_id}/resync", resync_token)
