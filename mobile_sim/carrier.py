"""The simulated carrier and mail inbox: what the service "sent" by SMS, voice and email.

A real SMS gateway never reads the service's database, and neither does this one. With the
default `outbox` delivery provider the service keeps each message (sealed, for an hour) until a
gateway fetches it: ``GET <service>/outbox/v1/messages?channel=sms|voice|email&to=<destination>``
with ``Authorization: Bearer <outbox token>``, answered in Duo's envelope with the messages oldest
first. At start-up the service writes its base URL and that token to ``DATA_DIR/outbox.json``
(mode 0600); `find_endpoint` reads it, unless both are given. Calls are answered by posting to the
callback URL a voice message carries, with its one-call token.
"""

from __future__ import annotations

import json
import re
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SMS_CODE = re.compile(r"\b\d{7}\b")
LINK = re.compile(r"https?://[^\s\"'<>]+")
DISCOVERY_FILE = "outbox.json"
MESSAGES_PATH = "/outbox/v1/messages"
TIMEOUT_S = 10.0


class CarrierError(Exception):
    """The outbox endpoint cannot be found, or the service refused a request."""


@dataclass(frozen=True)
class Endpoint:
    """Where the outbox is fetched from: the service's base URL and the bearer token."""

    url: str
    token: str = field(repr=False)


def find_endpoint(service: str | None, token: str | None, data_dir: Path) -> Endpoint:
    """`service` and `token` as given, each one missing taken from ``data_dir/outbox.json``."""
    if service and token:
        return Endpoint(service.rstrip("/"), token)
    path = data_dir / DISCOVERY_FILE
    try:
        announced = json.loads(path.read_text())
        return Endpoint((service or str(announced["url"])).rstrip("/"),
                        token or str(announced["token"]))
    except (OSError, ValueError, KeyError, TypeError):
        raise CarrierError(f"no outbox endpoint: give --service and --outbox-token, or --data-dir "
                           f"of a running authsvc with the outbox provider (no usable {path})"
                           ) from None


def passcodes(message: dict[str, Any]) -> list[str]:
    """The 7-digit SMS passcodes in a message."""
    return SMS_CODE.findall(str(message.get("body", "")))


def links(message: dict[str, Any]) -> list[str]:
    """The links in a message."""
    return LINK.findall(str(message.get("body", "")))


def _context(url: str, ca_file: str | None) -> ssl.SSLContext | None:
    """Verified TLS for https (trusting `ca_file`, else the system store); None for http."""
    return ssl.create_default_context(cafile=ca_file) if url.startswith("https:") else None


def _call(request: urllib.request.Request, ca_file: str | None) -> Any:
    """Send `request` and return the envelope's ``response``; a refusal raises CarrierError."""
    if not request.full_url.startswith(("https:", "http:")):
        raise CarrierError(f"not an http(s) URL: {request.full_url}")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S,  # noqa: S310 - scheme checked
                                    context=_context(request.full_url, ca_file)) as reply:
            return json.load(reply)["response"]
    except urllib.error.HTTPError as exc:
        with exc:
            raise CarrierError(f"{exc.code} {_failure(exc.read())}") from None


def _failure(body: bytes) -> str:
    """Duo's code and message from a FAIL envelope (or the body's start)."""
    try:
        envelope = json.loads(body)
        return f"{envelope['code']} {envelope['message']}"
    except (ValueError, KeyError, TypeError):
        return body[:200].decode("utf-8", "replace")


class Carrier:
    """Fetch what the service sent; answer calls."""

    def __init__(self, endpoint: Endpoint, ca_file: str | None = None) -> None:
        self._endpoint = endpoint
        self._ca_file = ca_file

    def messages(self, channel: str, destination: str) -> list[dict[str, Any]]:
        """Everything kept for `destination` on `channel` (``sms``, ``voice``, ``email``),
        oldest first."""
        query = urllib.parse.urlencode({"channel": channel, "to": destination})
        request = urllib.request.Request(  # noqa: S310 - _call checks the scheme
            f"{self._endpoint.url}{MESSAGES_PATH}?{query}",
            headers={"Authorization": f"Bearer {self._endpoint.token}",
                     "Accept": "application/json"})
        messages: list[dict[str, Any]] = _call(request, self._ca_file)
        return messages

    def wait_for_call(self, number: str, *, max_age_s: float, wait_s: float) -> dict[str, Any] | None:
        """The newest call to `number` placed within `max_age_s`, waiting up to `wait_s`."""
        deadline = time.time() + wait_s
        while True:
            calls = [call for call in self.messages("voice", number)
                     if call.get("ts", 0) >= time.time() - max_age_s]
            if calls:
                return calls[-1]
            if time.time() >= deadline:
                return None
            time.sleep(0.1)


def report(call: dict[str, Any], event: str, digit: str = "", ca_file: str | None = None) -> Any:
    """Tell the service what happened on the call (as the telephony provider would); returns
    the answer's ``response`` (``{"state": ...}``), raises CarrierError on a refusal."""
    extra = call["extra"]
    body = urllib.parse.urlencode({"token": extra["token"], "event": event, "digit": digit})
    request = urllib.request.Request(extra["callback_url"], data=body.encode(), method="POST",  # noqa: S310
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    return _call(request, ca_file)
