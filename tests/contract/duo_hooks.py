"""schemathesis hooks for authsvc (loaded with ``SCHEMATHESIS_HOOKS=tests.contract.duo_hooks``):

- an auth hook that signs every request as duo_client signs it (`duo_client.client.sign`,
  version 2, HMAC-SHA512, over the exact query or form body about to be sent) with the
  Owner-role admin integration on ``/admin/*`` and the auth integration on ``/auth/*``;
- path parameters drawn half the time from objects seeded beforehand (else every id is
  unknown and only 404s are checked against the schema), and usernames for auth/preauth from
  the seeded users.

The keys and ids come from the JSON file named by ``AUTHSVC_FUZZ_CONFIG``.
"""

from __future__ import annotations

import json
import os
import re
from email.utils import formatdate
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import duo_client.client
import requests
import schemathesis
from hypothesis import strategies as st

CONFIG: dict[str, Any] = json.loads(Path(os.environ["AUTHSVC_FUZZ_CONFIG"]).read_text())


def _pairs(request: requests.PreparedRequest, query: str) -> list[tuple[str, str]]:
    if request.method not in ("POST", "PUT", "PATCH"):
        return parse_qsl(query, keep_blank_values=True)
    body = request.body or b""
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else str(body)
    except UnicodeDecodeError:
        return []  # the service signs an undecodable form as empty too, then answers 400
    return parse_qsl(text, keep_blank_values=True)


class DuoSigner(requests.auth.AuthBase):
    """Duo's Basic-HMAC signature with a Date header, computed on the prepared request."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        url = urlsplit(request.url or "")
        keys = CONFIG["auth" if url.path.startswith("/auth/") else "admin"]
        params: dict[str, list[str]] = {}
        for name, value in _pairs(request, url.query):
            params.setdefault(name, []).append(value)
        date = formatdate(usegmt=True)
        request.headers["Date"] = date
        request.headers["Authorization"] = duo_client.client.sign(
            keys["ikey"], keys["skey"], request.method, url.hostname or "", url.path, date, 2,
            params)
        return request


schemathesis.auth.set_from_requests(DuoSigner())  # type: ignore[attr-defined]


@schemathesis.hook
def before_generate_path_parameters(context: Any, strategy: Any) -> Any:
    names = re.findall(r"{(\w+)}", context.operation.path if context.operation else "")
    ids: dict[str, list[str]] = CONFIG["ids"]
    if not names or not all(ids.get(name) for name in names):
        return strategy
    seeded = st.fixed_dictionaries({name: st.sampled_from(ids[name]) for name in names})
    return st.one_of(strategy, seeded)


@schemathesis.hook
def before_generate_body(context: Any, strategy: Any) -> Any:
    path = context.operation.path if context.operation else ""
    if path not in ("/auth/v2/auth", "/auth/v2/preauth"):
        return strategy
    names = st.sampled_from(CONFIG["usernames"])

    def with_user(body: Any, name: str) -> Any:
        if isinstance(body, dict):
            return {**{k: v for k, v in body.items() if k != "user_id"}, "username": name}
        return body

    return st.one_of(strategy, st.builds(with_user, strategy, names))
