"""Security keys over HTTP: the Auth API extension (assertion options, U2F sign requests),
the Admin API lists and deletes (admins cannot create keys), and the U2F trusted facets.

`auth` with ``factor=webauthn`` (parameter `assertion`: the AuthenticationResponse JSON, as a
string or an object) and ``factor=u2f`` (`keyHandle`, `signatureData`, `clientData`) is handled
in `auth_api.py` like every other factor.
"""

from __future__ import annotations

from aiohttp import web

from authsvc.errors import InvalidParameter, NotFound
from authsvc.http.envelope import ok
from authsvc.http.middleware import actor, params, services
from authsvc.http.params import Params
from authsvc.http.render import paging, security_key_json
from authsvc.model.security_keys import KeyKind
from authsvc.services import Services

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


async def user_keys(request: web.Request) -> web.Response:
    """GET /admin/v1/users/{user_id}/webauthncredentials and .../u2ftokens."""
    admin, kind = services(request).admin, _kind(request.match_info["kind"])
    view = await admin.users.get(actor(request), request.match_info["user_id"])
    keys = [key for key in view.keys if key.kind is kind]
    return ok([security_key_json(key, view.user) for key in keys],
              paging(0, len(keys), len(keys)))


async def list_keys(request: web.Request) -> web.Response:
    """GET /admin/v1/webauthncredentials and /admin/v1/u2ftokens (paged)."""
    kind = _kind(request.match_info["kind"])
    offset, limit = params(request).paging(default_limit=100, max_limit=LISTING_MAX)
    found, total = await services(request).admin.devices.keys(actor(request), kind, offset,
                                                               limit)
    return ok([security_key_json(key, user) for key, user in found], paging(offset, limit, total))


async def get_key(request: web.Request) -> web.Response:
    """GET /admin/v1/webauthncredentials/{key} and /admin/v1/u2ftokens/{key}."""
    admin, kind = services(request).admin, _kind(request.match_info["kind"])
    user_id, key = await admin.devices.key(actor(request), request.match_info["key"])
    if key.kind is not kind:
        raise NotFound("webauthnkey" if kind is KeyKind.WEBAUTHN else "registration_id")
    return ok(security_key_json(key, (await admin.users.get(actor(request), user_id)).user))


async def delete_key(request: web.Request) -> web.Response:
    """DELETE /admin/v1/webauthncredentials/{key} and /admin/v1/u2ftokens/{key}."""
    await services(request).admin.devices.delete_key(
        actor(request), request.match_info["key"], _kind(request.match_info["kind"]))
    return ok("")


def _kind(path_kind: str) -> KeyKind:
    return KeyKind.WEBAUTHN if path_kind == "webauthncredentials" else KeyKind.U2F


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
