"""Factor vocabulary: the registry's kinds, the log's factor names, and how a match is committed.

Each factor module (`authsvc/factors/`) declares its `FactorKind` and its `LogFactor`; the
decision script is told the log name and the commit rule of every match it may commit, so no
factor name or kind is mapped anywhere else (Python or Lua).
"""

from __future__ import annotations

from enum import StrEnum


class LogFactor(StrEnum):
    """Every `factor` value the authentication log writes (Duo's authlog v2 vocabulary)."""

    BYPASS_CODE = "bypass_code"
    HARDWARE_TOKEN = "hardware_token"  # noqa: S105 - a factor name, not a secret
    DUO_MOBILE_PASSCODE = "duo_mobile_passcode"
    SMS_PASSCODE = "sms_passcode"
    YUBIKEY_CODE = "yubikey_code"
    WEBAUTHN = "webauthn_security_key"
    U2F = "u2f_token"
    DUO_PUSH = "duo_push"
    PHONE_CALL = "phone_call"
    SMS_REFRESH = "sms_refresh"
    PASSCODE = "passcode"
    """A passcode that no factor accepted."""
    NOT_AVAILABLE = "not_available"
    """Decided before any factor ran (the user's status, a factor turned off)."""
    REMEMBERED_DEVICE = "remembered_device"
    """The Duo Prompt let a remembered browser through without a second factor."""


class FactorKind(StrEnum):
    """The factors of the registry (`authsvc.factors.REGISTRY`), one module each."""

    BYPASS = "bypass"
    SMS_PASSCODE = "sms_passcode"
    HOTP = "hotp"
    TOTP = "totp"
    YUBIKEY = "yubikey"
    DUO_MOBILE_PASSCODE = "duo_mobile_passcode"
    WEBAUTHN = "webauthn"
    U2F = "u2f"
    PUSH = "push"
    PHONE_CALL = "phone"
    SMS = "sms"


class Method(StrEnum):
    """How a factor proves the user: what the authenticator does with it."""

    PASSCODE = "passcode"
    """A typed code, matched in Python and consumed by passcode_attempt.lua."""
    OUT_OF_BAND = "out_of_band"
    """Something sent to a phone (push, call, SMS batch) and answered later or elsewhere."""
    SECURITY_KEY = "security_key"
    """A signed assertion checked in Python; its sign count committed by passcode_attempt.lua."""


class CommitRule(StrEnum):
    """How passcode_attempt.lua commits a match (one Lua function each)."""

    BYPASS_USE = "bypass"
    """Take one use of a bypass code (delete it at its last use or once expired)."""
    SMS_USE = "sms"
    """Delete the SMS passcode (each works once, until it expires)."""
    HOTP_COUNTER = "hotp"
    """Move the counter past the match; or count towards automatic resync with `far`."""
    TOTP_STEP = "totp"
    """Accept a time step only after the last accepted one."""
    YUBIKEY_COUNTER = "yk"
    """(use counter, session counter) packed must strictly increase."""
    SIGN_COUNT = "key"
    """A security key's sign count must increase (else flagged as a possible clone)."""


class Home(StrEnum):
    """Which of the user's hashes holds the matched object (passcode_attempt.lua's KEYS)."""

    BYPASS = "bypass"
    SMS = "sms"
    TOKENS = "tokens"
    MOBILE_OTP = "mobile_otp"
    SECURITY_KEYS = "security_keys"
