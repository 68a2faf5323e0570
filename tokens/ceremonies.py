"""The FIDO ceremonies against the service, as its clients run them: registration through the
self-service portal (passcode login, CSRF token, begin, make the credential, finish) and
authentication through the Auth API extension (options, assertion, ``factor=webauthn``).

Used by the ``tokens register`` and ``tokens authenticate`` commands and by the tests.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from html import unescape
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from fido2.ctap import CtapDevice

from tokens.webauthn_client import authenticate, register

_CSRF_INPUT = re.compile(r'<input[^>]*\bname="csrf"[^>]*>')
_VALUE = re.compile(r'\bvalue="([^"]*)"')
Touch = Callable[[], None] | None


class TokensError(Exception):
    """The command cannot go on: missing state, or the service broke the client contract."""


@dataclass(frozen=True)
class Service:
    """``--service https://HOST:PORT``: the WebAuthn origin and where the APIs live."""

    origin: str
    host: str
    port: int
    https: bool


def service_url(text: str) -> Service:
    """Parse ``--service`` (``https://HOST:PORT`` or ``http://...``, no path)."""
    parts = urlsplit(text.rstrip("/"))
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.path:
        raise argparse.ArgumentTypeError(f"expected https://HOST:PORT, got {text!r}")
    https = parts.scheme == "https"
    return Service(f"{parts.scheme}://{parts.netloc}", parts.hostname,
                   parts.port or (443 if https else 80), https)


async def _check(reply: aiohttp.ClientResponse) -> None:
    if reply.status >= 400:
        text = (await reply.text())[:200].replace("\n", " ")
        raise TokensError(f"{reply.method} {reply.url.path}: HTTP {reply.status} {text}")


async def _portal_csrf(session: aiohttp.ClientSession, base: str, context: ssl.SSLContext | bool,
                       username: str, passcode: str) -> str:
    """Log in to the self-service portal with a passcode; the page's CSRF token."""
    form = {"username": username, "passcode": passcode, "method": "passcode"}
    async with session.post(f"{base}/portal/self/login", data=form, ssl=context) as reply:
        await _check(reply)
    async with session.get(f"{base}/portal/self/devices", ssl=context) as reply:
        await _check(reply)
        tag = _CSRF_INPUT.search(await reply.text())
        value = _VALUE.search(tag.group(0)) if tag else None
    if value is None:
        raise TokensError("no CSRF token on /portal/self/devices: the portal login failed")
    return unescape(value.group(1))


async def portal_register(session: aiohttp.ClientSession, service: Service, device: CtapDevice, *,
                          username: str, passcode: str, name: str, ca_file: str | None = None,
                          pin: str | None = None, on_touch: Touch = None) -> dict[str, Any]:
    """The self-service portal contract: log in with a passcode, read the CSRF token, begin, make
    the credential at origin ``service.origin``, finish. Returns the finish answer
    (``{"webauthnkey", "credential_name"}``). The session must keep cookies for IP hosts too
    (``aiohttp.CookieJar(unsafe=True)``)."""
    context: ssl.SSLContext | bool = ssl.create_default_context(cafile=ca_file) if service.https else True
    base = service.origin
    csrf = await _portal_csrf(session, base, context, username, passcode)
    async with session.post(f"{base}/portal/self/webauthn/begin", data={"csrf": csrf},
                            ssl=context) as reply:
        await _check(reply)
        options = (await reply.json())["options"]
    credential = await asyncio.to_thread(register, device, options, base, pin=pin, on_touch=on_touch)
    payload = {"csrf": csrf, "name": name, "credential": credential}
    async with session.post(f"{base}/portal/self/webauthn/finish", json=payload, ssl=context) as reply:
        await _check(reply)
        answer: dict[str, Any] = await reply.json()
    return answer


def auth_api_authenticate(api: Any, origin: str, username: str, device: CtapDevice, *,
                          pin: str | None = None, on_touch: Touch = None) -> dict[str, Any]:
    """The Auth API contract with a ``duo_client.Auth``: options, assertion, ``/auth/v2/auth``
    with ``factor=webauthn``. Returns the Auth API answer (``{"result": ...}``)."""
    options = api.json_api_call("POST", "/auth/v2/webauthn/options", {"username": username})["options"]
    assertion = authenticate(device, options, origin, pin=pin, on_touch=on_touch)
    answer: dict[str, Any] = api.json_api_call("POST", "/auth/v2/auth", {
        "factor": "webauthn", "username": username,
        "assertion": json.dumps(assertion, separators=(",", ":"))})
    return answer
