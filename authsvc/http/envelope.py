"""Duo's JSON envelopes: ``{"stat":"OK","response":...}`` and ``{"stat":"FAIL",...}``."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from authsvc.errors import AuthsvcError

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def ok(response: Any, metadata: dict[str, Any] | None = None) -> web.Response:
    """A success envelope (metadata at the top level, where duo_client looks first)."""
    body: dict[str, Any] = {"stat": "OK", "response": response}
    if metadata is not None:
        body["metadata"] = metadata
    return web.Response(body=_dumps(body).encode(), content_type="application/json")


def fail(error: AuthsvcError) -> web.Response:
    """A failure envelope; the HTTP status is the first three digits of the code, and a
    `Retry-After` header says when to try again for the errors that have one (503, 429)."""
    body = {
        "stat": "FAIL",
        "code": error.code,
        "message": error.message,
        "message_detail": error.message_detail,
    }
    headers = {"Retry-After": str(error.retry_after)} if error.retry_after is not None else None
    return web.Response(status=error.http_status, body=_dumps(body).encode(),
                        content_type="application/json", headers=headers)
