"""Security keys: WebAuthn credentials and legacy U2F registrations."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class KeyKind(StrEnum):
    """How the key was registered (and which Admin API list shows it)."""

    WEBAUTHN = "webauthn"
    U2F = "u2f"


@dataclass(frozen=True, slots=True)
class SecurityKey:
    """One credential of one user. `key` is the admin-facing id (webauthnkey or
    registration_id); `public_key` the COSE key (base64url); U2F registrations also keep
    their raw public key (`u2f_public_key`) for raw U2F assertions."""

    credential_id: str
    key: str
    kind: KeyKind
    name: str
    public_key: str
    created: int
    count: int = 0
    last_used: int | None = None
    clone: bool = False
    u2f_public_key: str = ""
    app_id: str = ""
    aaguid: str = ""
    transports: list[str] = field(default_factory=list)
    user_verified: bool = False
    backed_up: bool = False
    device_type: str = ""


class ChallengePurpose(StrEnum):
    """What a single-use challenge was issued for."""

    REGISTER = "register"
    AUTHENTICATE = "authenticate"
    U2F = "u2f"
