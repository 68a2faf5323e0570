"""Sign Auth API requests exactly as duo_client 5.7.0 does, with duo_client's own functions.

`duo_client.Client.api_call` with the default ``sig_version=5`` sends a POST as the JSON body
``canon_json(params)``, signs an empty parameter line plus the body's SHA-512 and the (empty)
X-Duo header hash, and sends ``Authorization``, ``Date`` and ``Content-type``. Calling its
`sign()` and `canon_json()` here, rather than a copy of them, keeps the load generator honest:
if the service stopped accepting what duo_client sends, every load-test request would fail.
"""

from __future__ import annotations

import email.utils
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import duo_client.client as duo

SIG_VERSION = 5
AUTH_PATH = "/auth/v2/auth"
PREAUTH_PATH = "/auth/v2/preauth"
WEBAUTHN_OPTIONS_PATH = "/auth/v2/webauthn/options"


@dataclass(frozen=True, slots=True)
class SignedPost:
    """One signed POST: the exact body bytes to send and the headers that go with them."""

    path: str
    body: str
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


def passcode_params(username: str, passcode: str) -> dict[str, str]:
    """`duo_client.Auth.auth("passcode", username=..., passcode=...)`'s parameters."""
    return {"factor": "passcode", "async": "0", "username": username, "passcode": passcode}


def webauthn_params(username: str, assertion_json: str) -> dict[str, str]:
    """`auth` with ``factor=webauthn``, as `tokens.cli.auth_api_authenticate` sends it: the
    AuthenticationResponse as a compact JSON string."""
    return {"factor": "webauthn", "username": username, "assertion": assertion_json}
