"""The telephony provider's callbacks (``/carrier/v1/*``): what happened on a call.

Authenticated by the one-call token the voice message carried (not by Duo's HMAC): the
simulated carrier (`mobile-sim answer-call`) and a real telephony adapter behind the webhook
provider post the same form: ``token``, ``event`` (answered, keypress, hangup), ``digit``.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from aiohttp import web

from authsvc.errors import InvalidParameter, MissingParameter
from authsvc.http.envelope import ok
from authsvc.http.middleware import services


async def call_event(request: web.Request) -> web.Response:
    """POST /carrier/v1/calls/{call_id}."""
    try:
        form = dict(parse_qsl((await request.read()).decode("utf-8"), keep_blank_values=True))
    except UnicodeDecodeError:
        raise InvalidParameter("body (not UTF-8)") from None
    token, event = form.get("token"), form.get("event")
    if not token or not event:
        raise MissingParameter("token" if not token else "event")
    state = await services(request).calls.report(request.match_info["call_id"], token, event,
                                                 form.get("digit", ""))
    return ok({"state": state})


def setup_routes(app: web.Application) -> None:
    """Mount the carrier callbacks."""
    app.router.add_post("/carrier/v1/calls/{call_id}", call_event)
