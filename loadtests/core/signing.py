"""Auth and Admin API requests signed exactly as duo_client 5.7.0 signs them, with its own functions.

`duo_client.Client.api_call` with the default ``sig_version=5`` sends a POST as the JSON body
``canon_json(params)``, signs an empty parameter line plus the body's SHA-512 and the (empty)
X-Duo header hash, and sends ``Authorization``, ``Date`` and ``Content-type``; a GET carries
``normalize_params(params)`` in the canonical line and in the query, with an empty body. Calling
its `sign()`, `canon_json()` and `normalize_params()` here, rather than copies of them, keeps the
load generators honest: if the service stopped accepting what duo_client sends, every load-test
request would fail. `DuoApi` wraps one aiohttp session and one integration: the push driver, the
Admin API seeding and the WebAuthn challenge fetches call through it.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import ssl
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import duo_client.client as duo

SIG_VERSION = 5
AUTH_PATH = "/auth/v2/auth"
PREAUTH_PATH = "/auth/v2/preauth"
AUTH_STATUS_PATH = "/auth/v2/auth_status"
WEBAUTHN_OPTIONS_PATH = "/auth/v2/webauthn/options"
SETTINGS_PATH = "/admin/v1/settings"


@dataclass(frozen=True, slots=True)
class SignedPost:
    """One signed POST: the exact body bytes to send and the headers that go with them."""

    path: str
    body: str
    headers: dict[str, str]


@dataclass(frozen=True, slots=True)
class SignedGet:
    """One signed GET: the path with its query, and the headers."""

    path_and_query: str
    headers: dict[str, str]


def signed_host(url: str) -> str:
    """The host duo_client signs for a base URL: the configured name without the port."""
    host = urlsplit(url).hostname
    if not host:
        raise ValueError(f"no host in {url!r}")
    return host


def signed_post(*, ikey: str, skey: str, host: str, path: str, params: Mapping[str, str],
                date: str | None = None) -> SignedPost:
    """What `duo_client.Client.json_api_call("POST", path, params)` puts on the wire."""
    body = str(duo.Client.canon_json(dict(params)))
    when = date or email.utils.formatdate()
    authorization = str(duo.sign(ikey, skey, "POST", host, path, when, SIG_VERSION, {},
                                 body=body, digestmod=hashlib.sha512, additional_headers={}))
    return SignedPost(path, body, {"Authorization": authorization, "Date": when,
                                   "Content-type": "application/json"})


def signed_get(*, ikey: str, skey: str, host: str, path: str, params: Mapping[str, str],
               date: str | None = None) -> SignedGet:
    """What `duo_client.Client.json_api_call("GET", path, params)` puts on the wire."""
    normalized = duo.normalize_params(dict(params))
    when = date or email.utils.formatdate()
    authorization = str(duo.sign(ikey, skey, "GET", host, path, when, SIG_VERSION, normalized,
                                 body="", digestmod=hashlib.sha512, additional_headers={}))
    query = urllib.parse.urlencode(normalized, doseq=True)
    return SignedGet(f"{path}?{query}", {"Authorization": authorization, "Date": when})


def passcode_params(username: str, passcode: str) -> dict[str, str]:
    """`duo_client.Auth.auth("passcode", username=..., passcode=...)`'s parameters."""
    return {"factor": "passcode", "async": "0", "username": username, "passcode": passcode}


def webauthn_params(username: str, assertion_json: str) -> dict[str, str]:
    """`auth` with ``factor=webauthn``, as `tokens.cli.auth_api_authenticate` sends it: the
    AuthenticationResponse as a compact JSON string."""
    return {"factor": "webauthn", "username": username, "assertion": assertion_json}


def push_params(username: str, *, run_async: bool = False) -> dict[str, str]:
    """`duo_client.Auth.auth("push", username=..., device="auto", async_txn=...)`'s parameters."""
    return {"factor": "push", "async": "1" if run_async else "0", "username": username,
            "device": "auto"}


class ApiError(Exception):
    """A non-OK answer (HTTP status and Duo code) or a body that is not Duo's envelope."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"HTTP {status}: {detail}")
        self.status = status
        self.detail = detail


def client_ssl(ca_file: str | None) -> ssl.SSLContext:
    """Verified TLS trusting `ca_file` (the dev CA), as duo_client's ``ca_certs`` does."""
    return ssl.create_default_context(cafile=ca_file)


def _unwrap(status: int, text: str) -> Any:
    try:
        body = json.loads(text)
    except ValueError:
        raise ApiError(status, text[:200]) from None
    if not isinstance(body, dict) or body.get("stat") != "OK":
        code = body.get("code", "") if isinstance(body, dict) else ""
        message = body.get("message", "") if isinstance(body, dict) else ""
        raise ApiError(status, f"{code} {message}".strip() or text[:200])
    return body.get("response")


class DuoApi:
    """Signed calls of one integration against one service, over a caller-owned session."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str, ikey: str, skey: str,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.ikey = ikey
        self.skey = skey
        self.host = signed_host(base_url)
        self._ssl: ssl.SSLContext | bool = ssl_context if ssl_context is not None else True

    async def post(self, path: str, params: Mapping[str, str],
                   timeout: aiohttp.ClientTimeout | None = None) -> Any:
        """A signed JSON POST; the ``response`` of an OK envelope (ApiError otherwise)."""
        signed = signed_post(ikey=self.ikey, skey=self.skey, host=self.host, path=path,
                             params=params)
        async with self.session.post(f"{self.base_url}{path}", data=signed.body.encode(),
                                     headers=signed.headers, ssl=self._ssl,
                                     timeout=timeout) as reply:
            return _unwrap(reply.status, await reply.text())

    async def get(self, path: str, params: Mapping[str, str],
                  timeout: aiohttp.ClientTimeout | None = None) -> Any:
        """A signed GET; the ``response`` of an OK envelope (ApiError otherwise)."""
        signed = signed_get(ikey=self.ikey, skey=self.skey, host=self.host, path=path,
                            params=params)
        async with self.session.get(f"{self.base_url}{signed.path_and_query}",
                                    headers=signed.headers, ssl=self._ssl,
                                    timeout=timeout) as reply:
            return _unwrap(reply.status, await reply.text())

    async def push(self, username: str, timeout: aiohttp.ClientTimeout | None = None
                   ) -> dict[str, Any]:
        """A synchronous push: blocks until the phone answers or the push times out."""
        answer: dict[str, Any] = await self.post(AUTH_PATH, push_params(username), timeout)
        return answer

    async def push_async(self, username: str, timeout: aiohttp.ClientTimeout | None = None
                         ) -> dict[str, Any]:
        """``async=1`` then ``auth_status`` long polls until the push has ended."""
        started = await self.post(AUTH_PATH, push_params(username, run_async=True), timeout)
        txid = str(started["txid"])
        while True:
            status: dict[str, Any] = await self.get(AUTH_STATUS_PATH, {"txid": txid}, timeout)
            if status.get("result") != "waiting":
                return status
