"""Security keys over HTTP: the Auth API extension (assertion options, U2F sign requests),
the Admin API lists and deletes (admins cannot create keys), and the U2F trusted facets.

`auth` with ``factor=webauthn`` (parameter `assertion`: the AuthenticationResponse JSON, as a
string or an object) and ``factor=u2f`` (`keyHandle`, `signatureData`, `clientData`) is handled
in `auth_api.py` through `answer_security_key`.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from authsvc.domain.auth_requests import AuthRequest
from authsvc.domain.models import User
from authsvc.domain.transactions import answer_of
from authsvc.domain.verdicts import UNKNOWN_USER
from authsvc.errors import InvalidParameter, NotFound
from authsvc.http.envelope import ok
from authsvc.http.middleware import params, services
from authsvc.http.params import Params
from authsvc.http.render import paging, u2f_json, webauthn_json
from authsvc.services import Services

MAX_ASSERTION_BYTES = 16_384
LISTING_MAX = 500


async def _user_id(svc: Services, args: Params) -> str:
    username, user_id = args.text("username", max_length=255), args.text("user_id", max_length=64)
    user = await svc.users.by_name(username) if username is not None else (
        await svc.users.find(user_id) if user_id is not None else None)
    if user is None:
        raise InvalidParameter("user_id" if user_id else "username")
    return user.user_id


async def webauthn_options(request: web.Request) -> web.Response:
    """POST /auth/v2/webauthn/options (authsvc extension): assertion options for the user."""
    svc = services(request)
    user_id = await _user_id(svc, params(request))
    return ok({"options": await svc.security_keys.authentication_options(user_id)})


async def u2f_sign_request(request: web.Request) -> web.Response:
    """POST /auth/v2/u2f/sign_request (authsvc extension): a U2F challenge for the user."""
    svc = services(request)
    user_id = await _user_id(svc, params(request))
    return ok(await svc.security_keys.u2f_sign_request(user_id))


def _assertion(args: Params) -> dict[str, Any]:
    raw = args.raw("assertion")
    if isinstance(raw, str):
        if len(raw) > MAX_ASSERTION_BYTES:
            raise InvalidParameter("assertion")
        try:
            raw = json.loads(raw)
        except (ValueError, RecursionError):
            raise InvalidParameter("assertion (JSON)") from None
    if not isinstance(raw, dict):
        raise InvalidParameter("assertion")
    return raw


async def answer_security_key(request: web.Request, auth_request: AuthRequest, factor: str,
                              args: Params) -> web.Response:
    """`auth` with factor webauthn or u2f."""
    svc = services(request)
    keys = svc.security_keys
    if factor == "webauthn":
        assertion = _assertion(args)
        verdict = await svc.auth.security_key(
            auth_request, factor, lambda user_id: keys.check_assertion(user_id, assertion))
    else:
        handle = args.required_text("keyHandle", max_length=512)
        signature = args.required_text("signatureData", max_length=1024)
        client_data = args.required_text("clientData", max_length=4096)
        verdict = await svc.auth.security_key(
            auth_request, factor,
            lambda user_id: keys.check_u2f(user_id, handle, signature, client_data))
    if verdict is None or verdict is UNKNOWN_USER:
        raise InvalidParameter("user_id" if auth_request.user_id else "username")
    return ok(answer_of(verdict))


def _render(kind: str, record: dict[str, Any], user: User | None) -> dict[str, Any]:
    return webauthn_json(record, user) if kind == "webauthn" else u2f_json(record, user)


async def user_keys(request: web.Request) -> web.Response:
    """GET /admin/v1/users/{user_id}/webauthncredentials and .../u2ftokens."""
    svc, kind = services(request), request.match_info["kind"]
    user = await svc.users.get(request.match_info["user_id"])
    records = [r for r in await svc.security_keys.of_user(user.user_id) if r["kind"] == _kind(kind)]
    return ok([_render(_kind(kind), r, user) for r in records],
              paging(0, len(records), len(records)))


async def list_keys(request: web.Request) -> web.Response:
    """GET /admin/v1/webauthncredentials and /admin/v1/u2ftokens (paged)."""
    svc, kind = services(request), _kind(request.match_info["kind"])
    offset, limit = params(request).paging(default_limit=100, max_limit=LISTING_MAX)
    ids, total = await svc.store.security_keys.page(kind, offset, limit)
    rendered = []
    for key in ids:
        try:
            user_id, record = await svc.security_keys.get(key)
        except NotFound:
            continue
        rendered.append(_render(kind, record, await svc.users.find(user_id)))
    return ok(rendered, paging(offset, limit, total))


async def get_key(request: web.Request) -> web.Response:
    """GET /admin/v1/webauthncredentials/{key} and /admin/v1/u2ftokens/{key}."""
    svc, kind = services(request), _kind(request.match_info["kind"])
    user_id, record = await svc.security_keys.get(request.match_info["key"])
    if record["kind"] != kind:
        raise NotFound("webauthnkey" if kind == "webauthn" else "registration_id")
    return ok(_render(kind, record, await svc.users.find(user_id)))


async def delete_key(request: web.Request) -> web.Response:
    """DELETE /admin/v1/webauthncredentials/{key} and /admin/v1/u2ftokens/{key}."""
    svc = services(request)
    await svc.security_keys.delete(request.match_info["key"], _kind(request.match_info["kind"]))
    return ok("")


def _kind(path_kind: str) -> str:
    return "webauthn" if path_kind == "webauthncredentials" else "u2f"


async def trusted_facets(request: web.Request) -> web.Response:
    """GET /u2f/app-id: the U2F AppID's trusted facets (the accepted origins)."""
    origins = services(request).security_keys.rp.origins
    body = {"trustedFacets": [{"version": {"major": 1, "minor": 0}, "ids": origins}]}
    return web.json_response(body, content_type="application/fido.trusted-apps+json")


def setup_routes(app: web.Application) -> None:
    """Mount the security-key routes."""
    router = app.router
    router.add_post("/auth/v2/webauthn/options", webauthn_options)
    router.add_post("/auth/v2/u2f/sign_request", u2f_sign_request)
    kinds = "{kind:webauthncredentials|u2ftokens}"
    router.add_get(f"/admin/v1/users/{{user_id}}/{kinds}", user_keys)
    router.add_get(f"/admin/v1/{kinds}", list_keys)
    router.add_get(f"/admin/v1/{kinds}/{{key}}", get_key)
    router.add_delete(f"/admin/v1/{kinds}/{{key}}", delete_key)
    router.add_get("/u2f/app-id", trusted_facets)
