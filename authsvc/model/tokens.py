"""Hardware tokens (OATH HOTP/TOTP and YubiKey OTP)."""

from __future__ import annotations

from enum import StrEnum

from authsvc.model.values import value


class TokenType(StrEnum):
    """Hardware token types the Admin API creates."""

    HOTP6 = "h6"
    HOTP8 = "h8"
    TOTP6 = "t6"
    TOTP8 = "t8"
    YUBIKEY = "yk"

    @property
    def digits(self) -> int:
        return 8 if self in _EIGHT_DIGITS else 6

    @property
    def is_totp(self) -> bool:
        return self in _TOTP

    @property
    def is_hotp(self) -> bool:
        return self in _HOTP


# Plain strings: membership is a str comparison, not an enum lookup (the passcode hot path).
_EIGHT_DIGITS = frozenset({"h8", "t8"})
_TOTP = frozenset({"t6", "t8"})
_HOTP = frozenset({"h6", "h8"})


@value
class Token:
    """A hardware token. `sealed_seed` is the AES-GCM-sealed secret, never the secret.

    Read through a user, it is that holder's copy (`owner` = the user; its own counter); read
    as a token, it is the token's own record with every holder in `holders` (seed 003: "a
    hardware token may be assigned to multiple end users").
    """

    token_id: str
    type: TokenType
    serial: str
    sealed_seed: str
    created: int
    counter: int = 0
    totp_step: int = 30
    last_step: int = -1
    owner: str | None = None
    resync_next: int = 0
    resync_count: int = 0
    holders: tuple[str, ...] = ()
