"""What the Auth API hands the authenticator, and the preauth answer it gets back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from authsvc.domain.models import Integration


@dataclass(frozen=True, slots=True)
class AuthRequest:
    """Who is authenticating, from which application and access device."""

    integration: Integration
    username: str | None = None
    user_id: str | None = None
    ipaddr: str | None = None
    hostname: str | None = None


@dataclass(frozen=True, slots=True)
class PushOptions:
    """`auth` parameters of a push: the device (id or "auto") and what the phone shows."""

    device: str = "auto"
    type: str = "login"
    display_username: str = ""
    pushinfo: list[tuple[str, str]] = field(default_factory=list)
    txid: str | None = None


@dataclass(frozen=True, slots=True)
class PreauthResult:
    """The preauth answer: result, message, devices, the enroll link, Verified Push extras."""

    result: str
    status_msg: str
    devices: list[dict[str, Any]] = field(default_factory=list)
    enroll_portal_url: str | None = None
    verified_push: tuple[str, str, int] | None = None


def mask_number(number: str) -> str:
    """Duo shows phone numbers masked: XXX-XXX-1234."""
    return f"XXX-XXX-{number[-4:]}" if len(number) >= 4 else ""
