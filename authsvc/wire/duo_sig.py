"""Duo request signing: canonicalisation (versions 2, 4, 5), HMAC signing and verification.

Pure functions over strings and bytes (stdlib only), pinned by the worked vectors of
`reference/duo-api.md` §1.4 and by duo_client's own `sign()` in the tests.

Verification never re-serialises a body: versions 4 and 5 hash the raw bytes received, and
GET/DELETE parameters are parsed from the query string and re-canonicalised, because clients
differ in how they encode the query (quote_plus on the wire, %20 in the canonical string).
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import functools
import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import quote

EMPTY_SHA512 = hashlib.sha512(b"").hexdigest()
MAX_SKEW_SECONDS = 300


def canon_params(pairs: Iterable[tuple[str, str]]) -> str:
    """Duo's canonical parameter line: RFC 3986 quoting (only ``~`` kept), sorted pairs."""
    encoded = sorted(
        (quote(key.encode("utf-8"), safe="~"), quote(value.encode("utf-8"), safe="~"))
        for key, value in pairs
    )
    return "&".join(f"{key}={value}" for key, value in encoded)


def canon_x_duo_headers(headers: Mapping[str, str]) -> str:
    """SHA-512 hex of the lowercased, sorted ``x-duo-*`` headers flattened with NUL separators."""
    chosen = sorted((name.lower(), value) for name, value in headers.items()
                    if name.lower().startswith("x-duo-"))
    if not chosen:
        return EMPTY_SHA512
    flat = "\x00".join(f"{name}\x00{value}" for name, value in chosen)
    return hashlib.sha512(flat.encode("utf-8")).hexdigest()


def canonicalize(
    *,
    version: int,
    date: str,
    method: str,
    host: str,
    path: str,
    params_line: str,
    body_sha512: str = EMPTY_SHA512,
    headers_sha512: str = EMPTY_SHA512,
) -> str:
    """The canonical string for signature version 2, 4 or 5."""
    lines = [date, method.upper(), host.lower(), path, params_line]
    if version >= 4:
        lines.append(body_sha512)
    if version == 5:
        lines.append(headers_sha512)
    if version not in (2, 4, 5):
        raise ValueError(f"unsupported signature version {version}")
    return "\n".join(lines)


def sign(skey: str, canonical: str, digestmod: str = "sha512") -> str:
    """Lowercase hex HMAC of the canonical string (one-shot: no HMAC object per request)."""
    return hmac.digest(skey.encode("utf-8"), canonical.encode("utf-8"), digestmod).hex()


def authorization_header(ikey: str, signature_hex: str) -> str:
    """``Basic base64(ikey:sig)``, as duo_client sends it."""
    token = base64.b64encode(f"{ikey}:{signature_hex}".encode()).decode("ascii")
    return f"Basic {token}"


def parse_authorization(value: str) -> tuple[str, str] | None:
    """Split a Basic Authorization header into (ikey, signature hex); None if malformed."""
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "basic" or not token:
        return None
    try:
        decoded = binascii.a2b_base64(token.strip(), strict_mode=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    ikey, sep, signature = decoded.partition(":")
    if not sep or not ikey or not signature:
        return None
    return ikey, signature


@functools.lru_cache(maxsize=256)
def parse_date(value: str) -> float | None:
    """Seconds since the epoch for an RFC 2822 date (``-0000``, ``+0000`` and ``GMT`` forms)."""
    parsed = email.utils.parsedate_tz(value)
    if parsed is None:
        return None
    try:
        return float(email.utils.mktime_tz(parsed))
    except (OverflowError, ValueError):
        return None


def canonical_host(host_header: str) -> str:
    """The signed host: the Host header without its port, lowercased (IPv6 brackets removed)."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1:].partition("]")[0]
    if host.count(":") == 1:
        return host.partition(":")[0]
    return host


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """What a verifier needs from one HTTP request, taken verbatim from the wire."""

    method: str
    hosts: Sequence[str]
    path: str
    date: str
    query: Sequence[tuple[str, str]]
    body: bytes
    is_json: bool
    form: Sequence[tuple[str, str]] | None
    x_duo_headers: Mapping[str, str]


def candidate_canonicals(request: SignedRequest, *, sha1: bool) -> Iterable[tuple[int, str]]:
    """Every (version, canonical string) a legitimate client could have signed for this request.

    SHA-1 signatures only exist for version 2. A POST carries its parameters either as a JSON body
    (v4/v5, empty parameter line, body hashed) or as a form body (v2).
    """
    method = request.method.upper()
    has_body = method in ("POST", "PUT", "PATCH")
    for host in request.hosts:
        common = {"date": request.date, "method": method, "host": host, "path": request.path}
        if not sha1 and (request.is_json or not has_body):
            params_line = "" if has_body else canon_params(request.query)
            body_hash = hashlib.sha512(request.body).hexdigest() if has_body else EMPTY_SHA512
            headers_hash = canon_x_duo_headers(request.x_duo_headers)
            yield 5, canonicalize(version=5, params_line=params_line, body_sha512=body_hash,
                                  headers_sha512=headers_hash, **common)
            yield 4, canonicalize(version=4, params_line=params_line, body_sha512=body_hash,
                                  **common)
        if not request.is_json:
            pairs = request.form if has_body else request.query
            yield 2, canonicalize(version=2, params_line=canon_params(pairs or ()), **common)


def verify(request: SignedRequest, skey: str, signature_hex: str) -> int | None:
    """The signature version that matches, or None. Comparisons are constant-time."""
    signature_hex = signature_hex.lower()
    if len(signature_hex) == 40:
        digestmod, sha1 = "sha1", True
    elif len(signature_hex) == 128:
        digestmod, sha1 = "sha512", False
    else:
        return None
    for version, canonical in candidate_canonicals(request, sha1=sha1):
        if hmac.compare_digest(sign(skey, canonical, digestmod), signature_hex):
            return version
    return None
