"""The OpenAPI 3.1 document of the Auth API v2 and the Admin API, built from the Python
description in this package and served unsigned at ``GET /openapi.json``.

`tests/contract/test_openapi_routes.py` keeps it true to the routes the app mounts (each
documented, nothing documented that is not mounted), and `tests/contract/test_schemathesis.py`
fuzzes a running service with it.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from aiohttp import web

from authsvc import __version__
from authsvc.http.openapi import (
    admin_account,
    admin_devices,
    admin_units,
    admin_users,
    auth_ops,
)
from authsvc.http.openapi.build import Operation, Schema, paths, ref
from authsvc.http.openapi.schemas import COMPONENTS

OPERATIONS: tuple[Operation, ...] = (*auth_ops.OPERATIONS, *admin_users.OPERATIONS,
                                     *admin_devices.OPERATIONS, *admin_account.OPERATIONS,
                                     *admin_units.OPERATIONS)
PATH = "/openapi.json"

SIGNING = """\
Every request but `GET /auth/v2/ping` is signed as duo_client signs it: `Authorization: Basic
base64(ikey:hex(HMAC(skey, canonical)))` and a `Date` (or `X-Duo-Date`) header in RFC 2822
form within 300 s of the server's clock. The canonical string (version 2) is the lines: the
Date header; the method in capitals; the host, lowercased, without port; the path; and the
parameters (query string for GET/DELETE, form body for POST) sorted by name then value, each
name and value percent-encoded as RFC 3986 (only `~` kept unencoded), joined with `&`.
HMAC-SHA1 and HMAC-SHA512 are told apart by the signature's length. Versions 4 and 5 (JSON
bodies, hashed with SHA-512, and the `X-Duo-*` headers) are accepted too. An auth API key may
call only `/auth/*`, an Admin API key only `/admin/*` (403/40301)."""

_ERRORS = {
    "400": "40001 missing or 40002 invalid parameter (message_detail names it)",
    "401": "4010x: no or bad credentials, signature or date",
    "403": "40301: the key's API type or the admin's role does not allow this call",
    "404": "40401: unknown path or object",
    "405": "40501: the path exists, not for this method",
    "413": "41301: body over AUTHSVC_MAX_BODY_BYTES",
    "429": "42901: a rate limit refused the request; nothing was decided",
    "500": "50000: a bug; message_detail is `error id <hex>`, the same id is in the log",
    "503": "50301: Redis unreachable or answering 'not now'; nothing was decided",
}
_RETRY_AFTER = {"Retry-After": {"description": "seconds to wait", "required": True,
                                "schema": {"type": "string", "pattern": "^[0-9]+$"}}}


def _error_response(status: str, description: str) -> Schema:
    response: Schema = {"description": description,
                        "content": {"application/json": {"schema": ref("Error")}}}
    if status in ("429", "503"):
        response["headers"] = _RETRY_AFTER
    return response


@functools.cache
def document() -> dict[str, Any]:
    """The OpenAPI document (built once per process)."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "authsvc: Duo Auth API v2 and Admin API", "version": __version__,
                 "description": "A self-hosted service speaking Duo's wire protocol. "
                                "Operations marked `x-authsvc-extension` are not Duo's."},
        "servers": [{"url": "/"}],
        "tags": [{"name": "Auth API"}, {"name": "Admin API"}],
        "paths": paths(OPERATIONS),
        "components": {
            "schemas": COMPONENTS,
            "responses": {f"E{status}": _error_response(status, text)
                          for status, text in _ERRORS.items()},
            "securitySchemes": {"duo_hmac": {"type": "http", "scheme": "basic",
                                             "description": SIGNING}},
        },
    }


@functools.cache
def _body() -> bytes:
    return json.dumps(document(), separators=(",", ":")).encode()


async def openapi_json(request: web.Request) -> web.Response:
    """GET /openapi.json: this document (unsigned; it holds no secret)."""
    return web.Response(body=_body(), content_type="application/json")


def setup_routes(app: web.Application) -> None:
    """Mount the document."""
    app.router.add_get(PATH, openapi_json)
