"""Duo Mobile's device protocol, as the phone speaks it (independent of the server's code).

- Activation values: ``<20-char code>-<base64(api host), padding stripped>``; shown as a QR
  image at ``https://<host>/frame/qr?value=duo://<value>``, or linked from an HTML page at
  ``https://<host>/activate/<code>``.
- Signed device requests: ``Authorization: Basic base64(<pkey>:base64(RSA-PKCS1v15-SHA512(
  date \\n METHOD \\n host \\n path \\n params)))`` with the date in ``x-duo-date``; params are
  sorted and RFC 3986-quoted, as Duo's own server API signs them.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import html
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, unquote, urlsplit

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

_VALUE = re.compile(r"([A-Za-z0-9]{20})-([A-Za-z0-9+/=]+)")
_ESCAPED_LINK = re.compile(r"duo&#x3a;&#x2f;&#x2f;([A-Za-z0-9]{20}-[A-Za-z0-9+/=]+)\"")


class ActivationInputError(ValueError):
    """The text given is none of the activation forms the app understands."""


@dataclass(frozen=True, slots=True)
class ActivationValue:
    """Where to activate (the api host) and with which one-time code."""

    code: str
    host: str

    @property
    def value(self) -> str:
        encoded = base64.b64encode(self.host.encode()).decode().rstrip("=")
        return f"{self.code}-{encoded}"


def parse_value(text: str) -> ActivationValue:
    """``CODE-B64HOST`` (optionally ``duo://``-prefixed) -> code and host."""
    match = _VALUE.fullmatch(text.strip().removeprefix("duo://"))
    if match is None:
        raise ActivationInputError(f"not an activation value: {text!r}")
    code, encoded = match.groups()
    try:
        host = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise ActivationInputError("the host part is not base64") from None
    return ActivationValue(code, host)


def value_from_qr_url(url: str) -> ActivationValue | None:
    """The value inside a ``.../frame/qr?value=...`` image URL, or None for other URLs."""
    parts = urlsplit(url)
    values = parse_qs(parts.query).get("value")
    if not parts.path.endswith("/frame/qr") or not values:
        return None
    return parse_value(unquote(values[0]))


def value_from_activation_page(page_html: str) -> ActivationValue:
    """The value linked from an ``/activate/<code>`` HTML page (HTML-escaped ``duo://`` link)."""
    match = _ESCAPED_LINK.search(page_html)
    if match is None:
        unescaped = re.search(r"duo://([A-Za-z0-9]{20}-[A-Za-z0-9+/=]+)", html.unescape(page_html))
        if unescaped is None:
            raise ActivationInputError("the activation page holds no duo:// link")
        return parse_value(unescaped.group(1))
    return parse_value(match.group(1))


def canonical_params(params: Iterable[tuple[str, str]]) -> str:
    """Sorted, RFC 3986-quoted ``k=v`` pairs joined with ``&``."""
    encoded = sorted((quote(k, safe="~"), quote(v, safe="~")) for k, v in params)
    return "&".join(f"{k}={v}" for k, v in encoded)


def new_device_key() -> rsa.RSAPrivateKey:
    """The app's RSA-2048 key pair."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem(key: rsa.RSAPrivateKey) -> str:
    """The SPKI PEM the activation request carries."""
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def sign_request(key: rsa.RSAPrivateKey, pkey: str, *, method: str, host: str, path: str,
                 params: Iterable[tuple[str, str]], date: str | None = None) -> dict[str, str]:
    """The headers of one signed device request."""
    date = date or email.utils.formatdate()
    canonical = "\n".join([date, method.upper(), host.lower(), path, canonical_params(params)])
    signature = key.sign(canonical.encode(), padding.PKCS1v15(), hashes.SHA512())
    credentials = f"{pkey}:{base64.b64encode(signature).decode()}"
    return {"Authorization": "Basic " + base64.b64encode(credentials.encode()).decode(),
            "x-duo-date": date}
