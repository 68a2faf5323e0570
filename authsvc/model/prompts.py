"""The Duo Prompt's records: a browser's prompt session, the authorization grant a finished
session leaves for the application's token call, and a remembered device."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from authsvc.model.verdicts import Verdict


@dataclass(frozen=True, slots=True)
class PromptSession:
    """One browser's way through the prompt, from `authorize` to the redirect back.

    `token_hash` is the SHA-256 of the session cookie (the cookie itself is never stored);
    `verdict` is the last decision (None until one is taken); `txid` the push or call being
    waited for; `device` the Duo Mobile phone being activated (inline enrollment); `manage`
    that the user asked to manage devices after the second factor.
    """

    sid: str
    token_hash: str
    client_id: str
    redirect_uri: str
    state: str
    username: str
    nonce: str = ""
    code_param: str = "duo_code"
    created: int = 0
    user_id: str = ""
    txid: str = ""
    device: str = ""
    verdict: Verdict | None = None
    auth_time: int = 0
    manage: bool = False
    remember: bool = False


@dataclass(frozen=True, slots=True)
class AuthorizationGrant:
    """What an authorization code stands for, until the application's token call takes it:
    bound to the client and the redirect URI, with the claims the id_token will carry."""

    client_id: str
    redirect_uri: str
    username: str
    nonce: str
    auth_time: int
    verdict: Verdict
    context: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RememberedDevice:
    """A browser the user let the prompt remember for one application, until `expires`
    (unix seconds), as long as the user's devices stay those of `fingerprint`."""

    client_id: str
    fingerprint: str
    expires: int
