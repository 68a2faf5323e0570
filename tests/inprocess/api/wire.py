"""Raw HTTP to the service, signed with duo_client's own functions.

Tests in this folder build requests byte by byte (aiohttp's client with pre-encoded URLs) so they
can sign one thing and send another. Signing always goes through `duo_client.client.sign` (the
oracle), except for bodies that are not UTF-8, which duo_client cannot sign: those are signed
here from the v5 definition with hashlib/hmac directly.
"""

from __future__ import annotations

import base64
import dataclasses
import email.utils
import hashlib
import hmac
import json
import math
import time
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import aiohttp
from duo_client import client as duo
from yarl import URL

Digest = Callable[..., Any]
ParamValue = str | Sequence[str]
FORM_TYPE = "application/x-www-form-urlencoded"
JSON_TYPE = "application/json"
BODY_METHODS = ("POST", "PUT", "PATCH")
ENVELOPE_KEYS = {"stat", "code", "message", "message_detail"}


class Keys(Protocol):
    """An integration's key pair (`tests.conftest.Keys`)."""

    @property
    def ikey(self) -> str: ...

    @property
    def skey(self) -> str: ...


def duo_date(offset: float = 0.0, *, zone: str = "-0000", now: float | None = None) -> str:
    """An RFC 2822 date `offset` seconds from `now` (default: the wall clock; tests of the
    skew limit pass the service's clock), rounded away from it (so the skew is at least
    |offset|). `zone` is "-0000" (duo_client), "+0000" (duo_unix) or "GMT"."""
    now = time.time() if now is None else now
    when = math.ceil(now + offset) if offset > 0 else math.floor(now + offset)
    text = email.utils.formatdate(when, usegmt=zone == "GMT")
    return text if zone != "+0000" else text.replace("-0000", "+0000")


@dataclass(frozen=True)
class Reply:
    """What came back: status, content type and the raw body."""

    status: int
    content_type: str
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.body)

    def ok(self) -> Any:
        """The `response` of a success envelope (asserts it is one)."""
        assert self.status == 200, (self.status, self.body[:500])
        data = self.json()
        assert data["stat"] == "OK", data
        return data["response"]


@dataclass(frozen=True)
class Outgoing:
    """One request as it will go on the wire (edit it with `dataclasses.replace`)."""

    method: str
    path: str
    query: str = ""
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)

    def with_headers(self, **changes: str | None) -> Outgoing:
        """Set (or, with None, drop) headers; names use '_' for '-'."""
        headers = dict(self.headers)
        for name, value in changes.items():
            real = name.replace("_", "-")
            for existing in [key for key in headers if key.lower() == real.lower()]:
                del headers[existing]
            if value is not None:
                headers[real] = value
        return dataclasses.replace(self, headers=headers)


def _is_body_method(method: str) -> bool:
    return method.upper() in BODY_METHODS


def sign_raw_json_v5(keys: Keys, method: str, host: str, path: str, date: str, body: bytes,
                     x_duo_headers: Mapping[str, str]) -> str:
    """v5 for a body duo_client cannot take (not UTF-8): same lines, hashlib/hmac directly."""
    canonical = "\n".join([date, method.upper(), host.lower(), path, "",
                           hashlib.sha512(body).hexdigest(),
                           duo.canon_x_duo_headers(dict(x_duo_headers))])
    sig = hmac.new(keys.skey.encode(), canonical.encode(), hashlib.sha512).hexdigest()
    return "Basic " + base64.b64encode(f"{keys.ikey}:{sig}".encode()).decode()


def prepare(
    keys: Keys,
    method: str,
    path: str,
    params: Mapping[str, ParamValue] | None = None,
    *,
    version: int = 5,
    digestmod: Digest = hashlib.sha512,
    date: str | None = None,
    date_header: str = "Date",
    x_duo_headers: Mapping[str, str] | None = None,
    sign_host: str = "127.0.0.1",
    json_body: bytes | None = None,
) -> Outgoing:
    """A request signed the way duo_client's `api_call` signs it.

    GET/DELETE: params in the query (urlencode, doseq). POST v2: form body. POST v4/v5: the
    canonical JSON body, or `json_body` verbatim. With ``date_header="X-Duo-Date"`` the date goes
    in X-Duo-Date (duo_hmac style), which v5 also covers in its header hash.
    """
    params = dict(params or {})
    date = date or duo_date()
    extra = dict(x_duo_headers or {})
    if date_header.lower() == "x-duo-date":
        extra[date_header] = date
    headers: dict[str, str] = {}
    if date_header.lower() != "x-duo-date":
        headers[date_header] = date
    if version in (4, 5):
        if _is_body_method(method):
            body = json_body if json_body is not None else duo.Client.canon_json(params).encode()
            signed_params: Mapping[str, Any] = {}
            headers["Content-Type"] = JSON_TYPE
        else:
            body = b""
            signed_params = duo.normalize_params(params)
        try:
            text_body = body.decode("utf-8")
        except UnicodeDecodeError:
            auth = sign_raw_json_v5(keys, method, sign_host, path, date, body, extra)
        else:
            auth = duo.sign(keys.ikey, keys.skey, method, sign_host, path, date, version,
                            signed_params, body=text_body, digestmod=hashlib.sha512,
                            additional_headers=extra if version == 5 else None)
        if version == 5:
            headers.update(extra)
        query = "" if _is_body_method(method) else urllib.parse.urlencode(signed_params, doseq=True)
    else:
        normalized = duo.normalize_params(params)
        auth = duo.sign(keys.ikey, keys.skey, method, sign_host, path, date, version, normalized,
                        digestmod=digestmod)
        encoded = urllib.parse.urlencode(normalized, doseq=True)
        headers.update(extra)
        if _is_body_method(method):
            body, query = encoded.encode("ascii"), ""
            headers["Content-Type"] = FORM_TYPE
        else:
            body, query = b"", encoded
    headers["Authorization"] = auth
    return Outgoing(method.upper(), path, query, body, headers)


def tamper_signature(outgoing: Outgoing) -> Outgoing:
    """The same request with one hex digit of the signature changed."""
    ikey, _, sig = base64.b64decode(outgoing.headers["Authorization"][6:]).decode().partition(":")
    flipped = ("1" if sig[0] == "0" else "0") + sig[1:]
    token = base64.b64encode(f"{ikey}:{flipped}".encode()).decode()
    return outgoing.with_headers(Authorization=f"Basic {token}")


class Wire:
    """Sends `Outgoing` requests to the service on loopback, exactly as built."""

    def __init__(self, session: aiohttp.ClientSession, port: int) -> None:
        self.session = session
        self.port = port

    def url(self, path: str, query: str = "") -> URL:
        return URL(f"http://127.0.0.1:{self.port}{path}" + (f"?{query}" if query else ""),
                   encoded=True)

    async def send(self, outgoing: Outgoing) -> Reply:
        async with self.session.request(
                outgoing.method, self.url(outgoing.path, outgoing.query),
                data=outgoing.body if outgoing.body or _is_body_method(outgoing.method) else None,
                headers=dict(outgoing.headers),
                skip_auto_headers=("Content-Type",)) as response:
            return Reply(response.status, response.content_type, await response.read(),
                         dict(response.headers))

    async def call(self, keys: Keys, method: str, path: str,
                   params: Mapping[str, ParamValue] | None = None, **options: Any) -> Reply:
        """Sign with duo_client and send."""
        return await self.send(prepare(keys, method, path, params, **options))


def assert_fail(reply: Reply, code: int, detail: str | None = None) -> dict[str, Any]:
    """Duo's FAIL envelope with this code, HTTP status = the code's first three digits."""
    assert reply.content_type == JSON_TYPE, (reply.status, reply.body[:300])
    data = reply.json()
    assert isinstance(data, dict) and set(data) == ENVELOPE_KEYS, data
    assert data["stat"] == "FAIL", data
    assert data["code"] == code, data
    assert reply.status == code // 100, (reply.status, data)
    assert isinstance(data["message"], str) and data["message"], data
    if detail is not None:
        assert isinstance(data["message_detail"], str), data
        assert detail in data["message_detail"], data
    return data


def assert_envelope(reply: Reply) -> dict[str, Any]:
    """Some Duo envelope (OK or FAIL), never a 5xx."""
    assert reply.status < 500, (reply.status, reply.body[:500])
    assert reply.content_type == JSON_TYPE, (reply.status, reply.body[:300])
    data = reply.json()
    assert isinstance(data, dict), data
    if data.get("stat") == "OK":
        assert reply.status == 200 and "response" in data, data
    else:
        assert_fail(reply, data.get("code", -1))
    return data
