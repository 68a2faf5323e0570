"""One authentication attempt: what was loaded for it, what factors matched, what was decided."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

from authsvc.model.factors import CommitRule, Home, LogFactor
from authsvc.model.tokens import Token
from authsvc.model.users import User


@dataclass(frozen=True, slots=True)
class MobileOtp:
    """A user's own copy of an activated Duo Mobile app's passcode state (seed sealed)."""

    phone_id: str
    sealed_seed: str
    counter: int
    cred: int


@dataclass(frozen=True, slots=True)
class LoadedUser:
    """A user and everything a passcode or push decision reads, loaded in one round trip."""

    user: User
    tokens: list[Token]
    mobile_otp: list[MobileOtp] = field(default_factory=list)
    phone_ids: list[str] = field(default_factory=list)
    settings_version: str | None = None
    group_ids: list[str] = field(default_factory=list)
    """The user's group ids (deleted groups included: their records decide which exist)."""
    groups_v: str = "0"
    """The user's membership version (``groups_v``), which the decision scripts compare."""
    groups_version: str | None = None
    """The version of the group records (`store.groups.records` caches by it)."""

    @property
    def activated_phones(self) -> list[str]:
        """The user's phones with an activated app, in the user's order."""
        activated = {state.phone_id for state in self.mobile_otp}
        return [phone_id for phone_id in self.phone_ids if phone_id in activated]


@dataclass(frozen=True, slots=True)
class Match:
    """What one factor found for a submitted code: which object it would consume, and how.

    `counter` is the matched HOTP counter, TOTP step, YubiKey (use * 256 + session) value or
    the assertion's new sign count; None when only `far` is known. `far` is the counter an HOTP
    code has beyond the look-ahead window (automatic resync). The decision script re-checks
    both against current state, so a stale match can never be accepted twice.
    """

    factor: LogFactor
    rule: CommitRule
    home: Home
    object_id: str
    counter: int | None = None
    far: int | None = None


class AttemptStatus(IntEnum):
    """Reply codes of passcode_attempt.lua."""

    ALLOW = 1
    INVALID = 2
    LOCKED_NOW = 3
    LOCKED = 4
    DISABLED = 5
    BYPASS_USER = 6
    NO_USER = 7
    STALE = 11
    """The user's groups changed since they were read: nothing was done (decide again)."""


@dataclass(frozen=True, slots=True)
class AttemptOutcome:
    """The decision: status; for ALLOW the factor and object that matched and a detail
    ("resynced", remaining bypass uses, the SMS code's position); for a failure the count."""

    status: AttemptStatus
    factor: LogFactor | None = None
    matched_id: str = ""
    detail: str = ""
    fails: int = 0
    possible_clone: bool = False
