"""The interfaces factor modules implement, and what a passcode factor is given.

Three methods of proof (`model.factors.Method`), one interface each:

- a **passcode factor** is pure: from the state loaded for one attempt it computes which object
  the submitted code would consume (`Match`); the domain hands every match to one decision
  script, which commits at most one of them together with the lockout count;
- an **out-of-band factor** (push, phone call, SMS batch) names the phone capability it needs
  and the account setting that turns it on; the domain sends it and waits for its end;
- a **security-key factor** verifies a signed assertion (pure) and returns the `Match` whose
  sign count the decision script compares and sets.

Every factor declares its `FactorKind` (its registry key) and its `LogFactor` (what the
authentication log writes); nothing else maps kinds to names.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Protocol

from authsvc.crypto import SecretBox
from authsvc.model.attempts import Match, MobileOtp
from authsvc.model.factors import FactorKind, LogFactor, Method
from authsvc.model.settings import AccountSettings
from authsvc.model.tokens import Token
from authsvc.model.values import value


@value
class PasscodeContext:
    """What a passcode factor may look at for one attempt."""

    user_id: str
    tokens: Sequence[Token]
    mobile_otp: Sequence[MobileOtp]
    settings: AccountSettings
    now: float
    box: SecretBox


class Factor(Protocol):
    """What every factor module declares."""

    kind: ClassVar[FactorKind]
    log_name: ClassVar[LogFactor]
    method: ClassVar[Method]


class PasscodeFactor(Factor, Protocol):
    """One way a typed passcode can be valid."""

    def matches(self, ctx: PasscodeContext, passcode: str) -> list[Match]:
        """What `passcode` would consume for this factor ([] when it cannot match)."""
        ...


class OutOfBandFactor(Factor, Protocol):
    """Something sent to one of the user's phones."""

    api_name: ClassVar[str]
    """The Auth API's `factor` value, which is also the phone capability it needs."""

    def enabled(self, settings: AccountSettings) -> bool:
        """True unless an account setting turns the factor off for everyone."""
        ...
