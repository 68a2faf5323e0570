"""Verify a Duo-signed request: credentials, date skew, HMAC, and the integration's API type.

Runs before any parameter is used: a request that fails here changes nothing.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from aiohttp import web

from authsvc.clock import Clock
from authsvc.domain.integrations import Credentials, IntegrationRegistry
from authsvc.errors import (
    BadSignature,
    DateSkew,
    InvalidParameter,
    MissingCredentials,
    MissingDate,
    UnknownIntegration,
)
from authsvc.http.params import Params
from authsvc.model.values import value
from authsvc.wire import duo_sig

JSON_TYPE = "application/json"
_BODY_METHODS = ("POST", "PUT", "PATCH")


@value
class WireRequest:
    """A request's parameters as they arrived: query pairs, and form pairs for form POSTs."""

    query: list[tuple[str, str]]
    form: list[tuple[str, str]] | None
    is_json: bool
    form_is_utf8: bool = True

    def params(self, body: bytes) -> Params:
        """The parameters the handler reads (parse errors are 40002, after the signature)."""
        if self.is_json:
            return Params.from_json(body)
        if not self.form_is_utf8:
            raise InvalidParameter("body (not UTF-8)")
        return Params.from_pairs(self.form if self.form is not None else self.query)


def read_wire(request: web.Request, body: bytes) -> WireRequest:
    """Parse the query (``+`` is a space, as duo_client's urlencode sends it) and a form body."""
    query = parse_qsl(request.rel_url.raw_query_string, keep_blank_values=True)
    if request.method not in _BODY_METHODS:
        return WireRequest(query, None, is_json=False)
    if request.content_type == JSON_TYPE:
        return WireRequest(query, None, is_json=True)
    try:
        form = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        return WireRequest(query, [], is_json=False, form_is_utf8=False)
    return WireRequest(query, form, is_json=False)


def _hosts(request: web.Request, public_host: str | None) -> list[str]:
    hosts = [duo_sig.canonical_host(request.host)]
    if public_host:
        public = duo_sig.canonical_host(public_host)
        if public not in hosts:
            hosts.append(public)
    return hosts


@value
class SignaturePolicy:
    """How strictly to check: allowed clock skew, and the public host also accepted as signed."""

    clock: Clock
    max_skew: int
    public_host: str | None


def claimed_ikey(request: web.Request) -> str | None:
    """The integration key a request names in its Authorization header (not verified)."""
    parsed = duo_sig.parse_authorization(request.headers.get("Authorization", ""))
    return parsed[0] if parsed is not None else None


async def verify_request(request: web.Request, body: bytes, wire: WireRequest, *,
                         registry: IntegrationRegistry, policy: SignaturePolicy) -> Credentials:
    """The caller's credentials if the request is correctly signed; raises a 401 error if not."""
    parsed = duo_sig.parse_authorization(request.headers.get("Authorization", ""))
    if parsed is None:
        raise MissingCredentials()
    ikey, signature = parsed
    date = request.headers.get("X-Duo-Date") or request.headers.get("Date")
    when = duo_sig.parse_date(date) if date else None
    if date is None or when is None:
        raise MissingDate()
    if abs(policy.clock.now() - when) > policy.max_skew:
        raise DateSkew()
    credentials = await registry.credentials(ikey)
    if credentials is None:
        raise UnknownIntegration()
    signed = duo_sig.SignedRequest(
        method=request.method,
        hosts=_hosts(request, policy.public_host),
        path=request.rel_url.raw_path,
        date=date,
        query=wire.query,
        body=body,
        is_json=wire.is_json,
        form=wire.form,
        x_duo_headers={name: value for name, value in request.headers.items()
                       if name.lower().startswith("x-duo-")},
    )
    if duo_sig.verify(signed, credentials.skey, signature) is None:
        raise BadSignature()
    return credentials
