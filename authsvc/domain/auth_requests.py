"""What the Auth API (and the portal, and the coming web prompt) hand the authenticator, and
what they get back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from authsvc.errors import InvalidParameter
from authsvc.model.integrations import Integration
from authsvc.model.values import value
from authsvc.model.verdicts import Verdict

MAX_PASSCODE_LENGTH = 64


@dataclass(frozen=True, slots=True)
class PushOptions:
    """`auth` parameters of a push: the device (id or "auto") and what the phone shows."""

    device: str = "auto"
    type: str = "login"
    display_username: str = ""
    pushinfo: list[tuple[str, str]] = field(default_factory=list)
    txid: str | None = None


@value
class Passcode:
    """`factor=passcode`: a typed code (any passcode factor may accept it)."""

    code: str

    def check(self) -> None:
        """The code's shape, before any work is spent on it; raises InvalidParameter."""
        if not self.code or len(self.code) > MAX_PASSCODE_LENGTH or not self.code.isprintable():
            raise InvalidParameter("passcode")


@dataclass(frozen=True, slots=True)
class OutOfBand:
    """`factor=push|phone|sms|auto`: something sent to one of the user's phones."""

    factor: str
    options: PushOptions = field(default_factory=PushOptions)


@dataclass(frozen=True, slots=True)
class WebauthnAssertion:
    """`factor=webauthn`: an AuthenticationResponse (WebAuthn JSON)."""

    assertion: dict[str, Any]


@dataclass(frozen=True, slots=True)
class U2fResponse:
    """`factor=u2f`: a raw U2F sign response."""

    key_handle: str
    signature_data: str
    client_data: str


Proof = Passcode | OutOfBand | WebauthnAssertion | U2fResponse


@value
class AuthRequest:
    """Who is authenticating, from which application and access device, with what proof
    (none for preauth), and whether the caller waits for the end (`run_async` False).
    `client_ip` is the address the request came from (the application's server), which the
    rate limits count; `ipaddr` is the end user's, as the application reports it."""

    integration: Integration
    username: str | None = None
    user_id: str | None = None
    ipaddr: str | None = None
    hostname: str | None = None
    proof: Proof | None = None
    run_async: bool = False
    client_ip: str | None = None


@value
class AuthAnswer:
    """A decision (final, or `waiting` for a push still out), its transaction id, and whose
    it was."""

    verdict: Verdict
    txid: str
    user_id: str


@dataclass(frozen=True, slots=True)
class PreauthResult:
    """The preauth answer: result, message, devices, the enroll link, Verified Push extras."""

    result: str
    status_msg: str
    devices: list[dict[str, Any]] = field(default_factory=list)
    enroll_portal_url: str | None = None
    verified_push: tuple[str, str, int] | None = None
    verdict: Verdict | None = None
    """The logged verdict that decided an `allow` or `deny` (the status gate, the new-user
    policy, a restriction), so callers such as the prompt need not guess why."""


def mask_number(number: str) -> str:
    """Duo shows phone numbers masked: XXX-XXX-1234."""
    return f"XXX-XXX-{number[-4:]}" if len(number) >= 4 else ""
