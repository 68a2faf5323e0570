"""The verdicts an attempt can end in, with Duo's status, message and log vocabulary."""

from __future__ import annotations

from authsvc.model.attempts import AttemptOutcome, AttemptStatus
from authsvc.model.factors import LogFactor
from authsvc.model.groups import GroupStanding, effective_status
from authsvc.model.integrations import Integration
from authsvc.model.settings import AccountSettings
from authsvc.model.users import User, UserStatus
from authsvc.model.verdicts import Result, Verdict

DISABLED = Verdict(Result.DENY, "deny", "Your account is disabled.", "user_disabled",
                   LogFactor.NOT_AVAILABLE)
BYPASS_USER = Verdict(Result.ALLOW, "bypass", "Bypassing Duo authentication.", "bypass_user",
                      LogFactor.NOT_AVAILABLE)
LOCKED = Verdict(Result.DENY, "locked_out", "Your account is locked out.", "locked_out",
                 LogFactor.NOT_AVAILABLE)
INVALID_PASSCODE = Verdict(Result.DENY, "deny", "Incorrect passcode. Please try again.",
                           "invalid_passcode", LogFactor.PASSCODE)
LOCKED_NOW = Verdict(Result.DENY, "locked_out",
                     "Incorrect passcode. Your account is now locked out.",
                     "invalid_passcode", LogFactor.PASSCODE)
UNKNOWN_USER = Verdict(Result.DENY, "deny", "Unknown user.", "deny_unenrolled_user",
                       LogFactor.NOT_AVAILABLE)
NO_DEVICE = "No device can receive this request."
NOT_PERMITTED = Verdict(Result.DENY, "deny", "You are not allowed to use this application.",
                        "user_not_in_permitted_group", LogFactor.NOT_AVAILABLE)
"""A user outside the application's permitted groups (Duo's authlog reason)."""
NEW_USER_ALLOWED = Verdict(Result.ALLOW, "allow", "Allowing unknown user without 2FA.",
                           "allow_unenrolled_user", LogFactor.NOT_AVAILABLE)
"""Preauth of an unknown user under the application's enroll_policy "allow"."""
NEW_USER_DENIED = Verdict(Result.DENY, "deny", "Unknown user; enrollment is not allowed.",
                          "deny_unenrolled_user", LogFactor.NOT_AVAILABLE)
"""Preauth of an unknown user under enroll_policy "deny"."""
NO_STANDING = GroupStanding()

_REFUSED = {
    AttemptStatus.INVALID: INVALID_PASSCODE,
    AttemptStatus.LOCKED_NOW: LOCKED_NOW,
    AttemptStatus.LOCKED: LOCKED,
    AttemptStatus.DISABLED: DISABLED,
    AttemptStatus.BYPASS_USER: BYPASS_USER,
    AttemptStatus.NO_USER: UNKNOWN_USER,
}


def restricted(factor: LogFactor) -> Verdict:
    """The answer when a factor is turned off for everyone."""
    return Verdict(Result.DENY, "deny", "This authentication method is not allowed.",
                   "factor_restricted", factor)


def passcode_verdict(outcome: AttemptOutcome) -> Verdict:
    """Map the decision script's reply to the Auth API answer and log entry."""
    if outcome.status is AttemptStatus.ALLOW and outcome.factor is not None:
        return Verdict(Result.ALLOW, "allow", "Success. Logging you in...", "valid_passcode",
                       outcome.factor, device=outcome.matched_id)
    return _REFUSED[outcome.status]


def key_verdict(outcome: AttemptOutcome, log_name: LogFactor) -> Verdict:
    """The answer to a security-key assertion (a sign count that did not increase is logged
    with reason "possible_clone")."""
    if outcome.status is AttemptStatus.ALLOW and outcome.factor is not None:
        return Verdict(Result.ALLOW, "allow", "Success. Logging you in...", "user_approved",
                       outcome.factor, device=outcome.matched_id)
    if outcome.status in (AttemptStatus.INVALID, AttemptStatus.LOCKED_NOW):
        locked = outcome.status is AttemptStatus.LOCKED_NOW
        return Verdict(Result.DENY, "locked_out" if locked else "deny",
                       "The security key was not accepted.",
                       "possible_clone" if outcome.possible_clone else "invalid_device",
                       log_name)
    return _REFUSED[outcome.status]


def permitted_verdict(integration: Integration, standing: GroupStanding) -> Verdict | None:
    """NOT_PERMITTED when the application admits only some groups and the user is in none of
    them (checked before the status: bypass skips the second factor, not the application's
    access rule), else None."""
    return None if standing.permits(integration.groups_allowed) else NOT_PERMITTED


def status_verdict(user: User, settings: AccountSettings, now: float,
                   standing: GroupStanding = NO_STANDING) -> Verdict | None:
    """The verdict the user's effective status (their groups', else their own: see
    model/groups.py) forces before any factor, or None (go on); the Python side of
    store/lua/lib/status_gate.lua, read before any factor work is spent."""
    if user.status is UserStatus.PENDING_DELETION:
        return DISABLED  # in the Trash: "effectively disabled" (seed 001), whatever its groups
    status, _ = effective_status(user.status, standing)
    if status is UserStatus.DISABLED:
        return DISABLED
    if status is UserStatus.BYPASS:
        return BYPASS_USER
    if status is UserStatus.LOCKED_OUT:
        expire_ms = settings.lockout_expire_ms
        if not expire_ms or user.locked_at + expire_ms > now * 1000:
            return LOCKED
    return None
