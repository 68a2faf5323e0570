"""The interface every passcode factor implements, and the context it is given.

A passcode factor is pure: from the state loaded for one attempt it computes what the submitted
code would consume (the keyed hash of a bypass code, the counter or time step a token code
matches). `domain/auth.py` hands every contribution to one decision script, which commits at
most one of them together with the lockout count.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from authsvc.crypto import SecretBox
from authsvc.domain.account_settings import AccountSettings
from authsvc.domain.models import Token
from authsvc.store.attempts import TokenCandidate


class FactorKind(StrEnum):
    """Factors as the authentication log names them."""

    BYPASS_CODE = "bypass_code"
    HARDWARE_TOKEN = "hardware_token"  # noqa: S105 - a factor name, not a secret
    DUO_MOBILE_PASSCODE = "duo_mobile_passcode"
    SMS_PASSCODE = "sms_passcode"
    YUBIKEY_CODE = "yubikey_code"


@dataclass(frozen=True, slots=True)
class PasscodeContext:
    """What a passcode factor may look at for one attempt."""

    user_id: str
    tokens: Sequence[Token]
    mobile_otp: Mapping[str, str]
    settings: AccountSettings
    now: float
    box: SecretBox


@dataclass(frozen=True, slots=True)
class Contribution:
    """A factor's part of the decision: a bypass hash and/or token candidates."""

    bypass_hash: str = ""
    sms_hash: str = ""
    tokens: tuple[TokenCandidate, ...] = ()


class PasscodeFactor(Protocol):
    """One way a typed passcode can be valid."""

    kind: FactorKind

    def contribute(self, ctx: PasscodeContext, passcode: str) -> Contribution:
        """What `passcode` would consume for this factor (empty when it cannot match)."""
        ...
