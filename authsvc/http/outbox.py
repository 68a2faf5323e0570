"""The outbox provider's pickup endpoint, ``GET /outbox/v1/messages``: how a gateway, or the
simulated carrier and inbox (`mobile-sim sms|mail|answer-call`), fetches what the service sent.

Mounted only with ``AUTHSVC_DELIVERY=outbox``; with the webhook provider the path is unknown
(404), as messages then leave by POST. Authenticated by ``Authorization: Bearer <outbox token>``,
not by Duo's HMAC (the signature middleware signs ``/auth/`` and ``/admin/`` only): the token is
derived from the master key, so every process serving one Redis accepts the same one and none
stores it. At start-up each process writes its base URL and the token to ``DATA_DIR/outbox.json``
(mode 0600), where a carrier on the same machine finds both. Whoever can read that file can read
the data dir's ``secret.key`` as well, so it gives away nothing more.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path

from aiohttp import web

from authsvc.errors import BadSignature, InvalidParameter, MissingCredentials
from authsvc.gateways.delivery import OUTBOX_CHANNELS, OutboxProvider
from authsvc.http.envelope import ok
from authsvc.http.middleware import SERVICES
from authsvc.http.params import Params

log = logging.getLogger(__name__)

OUTBOX = web.AppKey("outbox", OutboxProvider)
DISCOVERY_FILE = "outbox.json"
MAX_DESTINATION = 320  # the longest email address


def _authenticate(request: web.Request, outbox: OutboxProvider) -> None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise MissingCredentials("Authorization: Bearer <outbox token>")
    if not outbox.accepts(token.strip()):
        raise BadSignature(message="Invalid outbox token in request credentials")


async def messages(request: web.Request) -> web.Response:
    """GET /outbox/v1/messages?channel=sms|voice|email&to=... (authsvc extension)."""
    outbox = request.app[OUTBOX]
    _authenticate(request, outbox)
    params = Params.from_pairs(request.query.items())
    channel = params.required_text("channel", max_length=8)
    if channel not in OUTBOX_CHANNELS:
        raise InvalidParameter("channel (sms, voice or email)")
    return ok(await outbox.messages(channel, params.required_text("to",
                                                                  max_length=MAX_DESTINATION)))


def write_discovery_file(data_dir: Path, url: str, token: str) -> Path:
    """Write ``{"url", "token"}`` to ``data_dir/outbox.json``, mode 0600, replaced atomically
    (a carrier reading it while another process starts sees the old file or the new one)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / DISCOVERY_FILE
    fd, temporary = tempfile.mkstemp(dir=data_dir, prefix=".outbox-", suffix=".json")  # 0600
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump({"url": url, "token": token}, handle)
            handle.write("\n")
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


async def _announce(app: web.Application) -> None:
    services = app[SERVICES]
    try:
        path = write_discovery_file(services.settings.data_dir, services.links.base_url,
                                    app[OUTBOX].token)
    except OSError as exc:  # a read-only data dir: the endpoint still works with --service
        log.warning("outbox: could not write %s: %s", services.settings.data_dir / DISCOVERY_FILE,
                    exc.strerror)
        return
    log.info("outbox endpoint %s/outbox/v1/messages announced in %s", services.links.base_url,
             path)


def setup_routes(app: web.Application) -> None:
    """Mount the outbox endpoint and announce it at start-up (outbox provider only)."""
    services = app[SERVICES]
    if services.settings.delivery != "outbox":
        return
    app[OUTBOX] = OutboxProvider(services.store, services.clock, services.box)
    app.router.add_get("/outbox/v1/messages", messages)
    app.on_startup.append(_announce)
