"""One authentication attempt: what was loaded for it, what factors matched, what was decided."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

from authsvc.model.factors import CommitRule, Home, LogFactor
from authsvc.model.tokens import Token
from authsvc.model.users import User
from authsvc.model.values import value


@dataclass(frozen=True, slots=True)
class MobileOtp:
    """A user's own copy of an activated Duo Mobile app's passcode state (seed sealed)."""

    phone_id: str
    sealed_seed: str
    counter: int
    cred: int


@value
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
    view: str = ""
    """The digest of the state this was loaded from (lib/user_view.lua): a decision computed
    from this copy names it, and the script refuses it if the state moved on."""

    @property
    def activated_phones(self) -> list[str]:
        """The user's phones with an activated app, in the user's order."""
        activated = {state.phone_id for state in self.mobile_otp}
        return [phone_id for phone_id in self.phone_ids if phone_id in activated]


@value
class Match:
    """What one factor found for a submitted code: which object it would consume, and how.

    `counter` is the matched HOTP counter, TOTP step, YubiKey (use * 256 + session) value or
    the assertion's new sign count; None when only `far` is known. `far` is the counter an HOTP
    code has beyond the look-ahead window (automatic resync). `window`: the look-ahead `counter`
    was found in (HOTP); the script accepts it only below the stored counter + window. The
    decision script re-checks all three against current state, so a stale match can never be
    accepted twice, nor beyond the current look-ahead.
    """

    factor: LogFactor
    rule: CommitRule
    home: Home
    object_id: str
    counter: int | None = None
    far: int | None = None
    window: int | None = None


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
    STALE_VIEW = 12
    """The user's state is no longer the copy the matches were computed from: nothing was done
    (decide again from `AttemptOutcome.current` if given, else from a fresh load)."""


@dataclass(frozen=True, slots=True)
class CurrentCounters:
    """A user's token copies and Duo Mobile states as stored now, with the digest of the user's
    state: what a decision that caught up a copy stale in its counters only answers with
    (passcode_attempt.lua), so the copy is brought up to date without a load."""

    tokens: list[Token]
    mobile_otp: list[MobileOtp]
    view: str


@value
class AttemptOutcome:
    """The decision: status; for ALLOW the factor and object that matched and a detail
    ("resynced", remaining bypass uses, the SMS code's position); for a failure the count."""

    status: AttemptStatus
    factor: LogFactor | None = None
    matched_id: str = ""
    detail: str = ""
    fails: int = 0
    possible_clone: bool = False
    view: str = ""
    """ALLOW: the digest of the user's state now ("" when unknown: drop the copy)."""
    committed: Token | MobileOtp | None = None
    """ALLOW on a token or Duo Mobile state: the user's copy of it as stored now."""
    current: CurrentCounters | None = None
    """ALLOW or STALE_VIEW for a copy stale in its counters only: the counters now."""
