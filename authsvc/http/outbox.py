"""The outbox provider's pickup endpoint, ``GET /outbox/v1/messages``: how a gateway, or the
simulated carrier and inbox (`mobile-sim sms|mail|answer-call`), fetches what the service sent.

Mounted only with ``AUTHSVC_DELIVERY=outbox``; with the webhook provider the path is unknown
(404), as messages then leave by POST. Authenticated by ``Authorization: Bearer <outbox token>``,
not by Duo's HMAC (the signature middleware signs ``/auth/`` and ``/admin/`` only): the token is
derived from the master key, so every process serving one Redis accepts the same one and none
stores it. Where a carrier finds the endpoint and the token: `authsvc/discovery.py`.
"""

from __future__ import annotations

from aiohttp import web

from authsvc.domain.messages import CHANNELS, OutboxReader
from authsvc.errors import BadSignature, InvalidParameter, MissingCredentials, NotFound
from authsvc.http.envelope import ok
from authsvc.http.middleware import SERVICES, services
from authsvc.http.params import Params

MAX_DESTINATION = 320  # the longest email address


def _authenticate(request: web.Request, outbox: OutboxReader) -> None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise MissingCredentials("Authorization: Bearer <outbox token>")
    if not outbox.accepts(token.strip()):
        raise BadSignature(message="Invalid outbox token in request credentials")


async def messages(request: web.Request) -> web.Response:
    """GET /outbox/v1/messages?channel=sms|voice|email&to=... (authsvc extension)."""
    outbox = services(request).outbox
    if outbox is None:
        raise NotFound()
    _authenticate(request, outbox)
    params = Params.from_pairs(request.query.items())
    channel = params.required_text("channel", max_length=8)
    if channel not in CHANNELS:
        raise InvalidParameter("channel (sms, voice or email)")
    return ok(await outbox.messages(channel, params.required_text("to",
                                                                  max_length=MAX_DESTINATION)))


def setup_routes(app: web.Application) -> None:
    """Mount the outbox endpoint (outbox provider only)."""
    if app[SERVICES].outbox is not None:
        app.router.add_get("/outbox/v1/messages", messages)
