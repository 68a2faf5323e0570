"""Requests that never reach the application: answered in Duo's envelope, logged in one line.

aiohttp parses the request line and headers before any middleware runs; when that fails (a
request line or header over 8,190 bytes, a header without a colon or with a control character,
more than 128 headers, a bad method or version, TLS spoken to the plain-HTTP port) it answers
from `RequestHandler.handle_error`, as plain text, and logs the error with a traceback at ERROR,
which lets anyone flood the log without signing anything. aiohttp has no hook for this (aiohttp
issue 3287), so `authsvc.server` builds its connections with this subclass: the same 400 (the
connection is closed after it), but as `{"stat":"FAIL","code":40002,...}`, logged as one WARNING
line naming the peer and the kind of error, never the bytes sent (they may hold a secret URL).

The subclass also remembers whether a connection has sent anything (`heard_from`): at a
graceful stop (a reload, SIGTERM), a connection accepted just before the listener closed may not
have sent its request yet, and aiohttp's shutdown would close it as idle, unanswered; the server
waits for those first (`authsvc.server.hear_out_fresh_connections`).
"""

from __future__ import annotations

import logging
import secrets

from aiohttp import web
from aiohttp.http_exceptions import BadHttpMethod, LineTooLong

from authsvc.errors import AuthsvcError, InvalidParameter
from authsvc.http.envelope import fail

log = logging.getLogger("authsvc.http.protocol")


def _what(exc: BaseException | None) -> str:
    if isinstance(exc, LineTooLong):
        return "a request line or header over the size limit"
    if isinstance(exc, BadHttpMethod):
        return "not HTTP (TLS sent to a plain-HTTP port?)"
    return type(exc).__name__ if exc is not None else "unknown"


class DuoRequestHandler(web.RequestHandler):
    """aiohttp's connection handler, with protocol errors answered in Duo's envelope."""

    heard_from = False
    """True once the connection has sent anything (an instance attribute from then on)."""

    def data_received(self, data: bytes) -> None:
        self.heard_from = True
        super().data_received(data)

    def handle_error(self, request: web.BaseRequest, status: int = 500,
                     exc: BaseException | None = None,
                     message: str | None = None) -> web.StreamResponse:
        """The answer to a request aiohttp could not hand to the application."""
        if request.writer.output_size > 0:  # an answer was already on its way: nothing to add
            raise ConnectionError("response already started")
        if status < 500:
            log.warning("bad request from %s: %s (HTTP %d)", request.remote or "-", _what(exc),
                        status)
            error: AuthsvcError = InvalidParameter(f"malformed HTTP request: {_what(exc)}")
        else:
            error_id = secrets.token_hex(6)
            log.error("unexpected error %s outside the application", error_id, exc_info=exc)
            error = AuthsvcError(f"error id {error_id}")
        response = fail(error)
        response.force_close()
        return response
