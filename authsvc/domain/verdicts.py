"""The verdicts an attempt can end in, with Duo's status, message and log vocabulary."""

from __future__ import annotations

from authsvc.domain.account_settings import AccountSettings
from authsvc.domain.models import Result, UserStatus, Verdict
from authsvc.store.attempts import AttemptOutcome, AttemptStatus

DISABLED = Verdict(Result.DENY, "deny", "Your account is disabled.", "user_disabled",
                   "not_available")
BYPASS_USER = Verdict(Result.ALLOW, "bypass", "Bypassing Duo authentication.", "bypass_user",
                      "not_available")
LOCKED = Verdict(Result.DENY, "locked_out", "Your account is locked out.", "locked_out",
                 "not_available")
INVALID_PASSCODE = Verdict(Result.DENY, "deny", "Incorrect passcode. Please try again.",
                           "invalid_passcode", "passcode")
LOCKED_NOW = Verdict(Result.DENY, "locked_out",
                     "Incorrect passcode. Your account is now locked out.",
                     "invalid_passcode", "passcode")
UNKNOWN_USER = Verdict(Result.DENY, "deny", "Unknown user.", "deny_unenrolled_user",
                       "not_available")


KEY_FACTORS = {"webauthn": "webauthn_security_key", "u2f": "u2f_token"}


def key_verdict(outcome: AttemptOutcome, factor: str) -> Verdict:
    """The answer to a security-key assertion (a sign count that did not increase is logged
    with reason "possible_clone")."""
    log_factor = KEY_FACTORS.get(factor, factor)
    if outcome.status is AttemptStatus.ALLOW:
        return Verdict(Result.ALLOW, "allow", "Success. Logging you in...", "user_approved",
                       outcome.factor, device=outcome.matched_id)
    if outcome.status in (AttemptStatus.INVALID, AttemptStatus.LOCKED_NOW):
        locked = outcome.status is AttemptStatus.LOCKED_NOW
        return Verdict(Result.DENY, "locked_out" if locked else "deny",
                       "The security key was not accepted.",
                       outcome.detail or "invalid_device", log_factor)
    return verdict_for_outcome(outcome)


def verdict_for_outcome(outcome: AttemptOutcome) -> Verdict:
    """Map the decision script's reply to the Auth API answer and log entry."""
    if outcome.status is AttemptStatus.ALLOW:
        return Verdict(Result.ALLOW, "allow", "Success. Logging you in...", "valid_passcode",
                       outcome.factor, device=outcome.matched_id)
    return {
        AttemptStatus.INVALID: INVALID_PASSCODE,
        AttemptStatus.LOCKED_NOW: LOCKED_NOW,
        AttemptStatus.LOCKED: LOCKED,
        AttemptStatus.DISABLED: DISABLED,
        AttemptStatus.BYPASS_USER: BYPASS_USER,
        AttemptStatus.NO_USER: UNKNOWN_USER,
    }[outcome.status]


def status_verdict(status: UserStatus, fields: dict[str, str], settings: AccountSettings,
                   now: float) -> Verdict | None:
    """The verdict a user's status forces before any factor, or None (go on); the Python side
    of store/lua/lib/status_gate.lua, read before any factor work is spent."""
    if status is UserStatus.DISABLED:
        return DISABLED
    if status is UserStatus.BYPASS:
        return BYPASS_USER
    if status is UserStatus.LOCKED_OUT:
        locked_at = int(fields.get("locked_at") or 0)
        expire_ms = settings.lockout_expire_ms
        if not expire_ms or locked_at + expire_ms > now * 1000:
            return LOCKED
    return None
