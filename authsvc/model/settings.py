"""Account-wide settings (`get_settings` / `update_settings`): one typed field per setting.

Every field duo_client's `update_settings` can send is accepted and returned, so the call works
unmodified; the ones this service acts on are documented in docs/api.md. Each field carries its
validation rule in its metadata (the one schema): values are validated once, on the way in
(`validate_update`) and when read back from Redis (`AccountSettings.from_stored`, where a value
the schema no longer accepts falls back to its default).
"""

from __future__ import annotations

import dataclasses
import functools
import re
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from authsvc.errors import InvalidParameter
from authsvc.model.names import email_problem

SettingValue = int | bool | str


@dataclass(frozen=True, slots=True)
class IntRule:
    minimum: int
    maximum: int

    def parse(self, name: str, raw: object) -> int:
        if isinstance(raw, bool) or not isinstance(raw, int | str):
            raise InvalidParameter(f"{name} (an integer)")
        try:
            value = int(raw)
        except ValueError:
            raise InvalidParameter(f"{name} (an integer)") from None
        if not self.minimum <= value <= self.maximum:
            raise InvalidParameter(f"{name} (must be {self.minimum}..{self.maximum})")
        return value


@dataclass(frozen=True, slots=True)
class BoolRule:
    def parse(self, name: str, raw: object) -> bool:
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in ("1", "true"):
            return True
        if text in ("0", "false"):
            return False
        raise InvalidParameter(f"{name} (true or false)")


@dataclass(frozen=True, slots=True)
class StrRule:
    max_length: int = 1024
    choices: tuple[str, ...] = ()

    def parse(self, name: str, raw: object) -> str:
        if not isinstance(raw, str) or len(raw) > self.max_length or not raw.isprintable():
            raise InvalidParameter(f"{name} (printable text, at most {self.max_length} characters)")
        if self.choices and raw not in self.choices:
            raise InvalidParameter(f"{name} (one of {', '.join(self.choices)})")
        return raw


@functools.cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones()) | {"UTC"}


@dataclass(frozen=True, slots=True)
class TimezoneRule:
    """An IANA time zone name (``Europe/Paris``, ``UTC``), as `zoneinfo` knows them."""

    def parse(self, name: str, raw: object) -> str:
        if not isinstance(raw, str) or raw not in _time_zones():
            raise InvalidParameter(f"{name} (an IANA time zone such as UTC or Europe/Paris)")
        return raw


@dataclass(frozen=True, slots=True)
class EmailRule:
    """An email address, or "" for none."""

    def parse(self, name: str, raw: object) -> str:
        if not isinstance(raw, str):
            raise InvalidParameter(f"{name} (an email address)")
        problem = email_problem(raw) if raw else None
        if problem is not None:
            raise InvalidParameter(f"{name} (an email address: {problem})")
        return raw


_PHONE_NUMBER = re.compile(r"\+?[0-9]{3,20}")


@dataclass(frozen=True, slots=True)
class PhoneNumberRule:
    """A phone number in E.164 digits (``+15555550100``), or "" for none."""

    def parse(self, name: str, raw: object) -> str:
        if not isinstance(raw, str) or (raw and not _PHONE_NUMBER.fullmatch(raw)):
            raise InvalidParameter(f"{name} (a phone number: digits, optionally after +)")
        return raw


Rule = IntRule | BoolRule | StrRule | TimezoneRule | EmailRule | PhoneNumberRule
KEYS = tuple("0123456789#*")


def _int(default: int, minimum: int, maximum: int) -> Any:
    return dataclasses.field(default=default, metadata={"rule": IntRule(minimum, maximum)})


def _bool(default: bool) -> Any:
    return dataclasses.field(default=default, metadata={"rule": BoolRule()})


def _str(default: str, max_length: int = 1024, choices: tuple[str, ...] = ()) -> Any:
    return dataclasses.field(default=default, metadata={"rule": StrRule(max_length, choices)})


def _ruled(default: str, rule: Rule) -> Any:
    return dataclasses.field(default=default, metadata={"rule": rule})


@dataclass(frozen=True, slots=True)
class AccountSettings:
    """The settings in force: stored values over defaults, each one typed."""

    # Acted on by this service.
    lockout_threshold: int = _int(10, 1, 9999)
    lockout_expire_duration: int = _int(0, 0, 30000)
    hotp_lookahead_window: int = _int(20, 1, 1000)
    push_timeout: int = _int(60, 1, 600)
    verified_push_enabled: bool = _bool(False)
    verified_push_digits: int = _int(3, 3, 6)
    push_max_outstanding: int = _int(3, 1, 100)
    push_cooldown_after: int = _int(5, 0, 100)
    push_cooldown_minutes: int = _int(15, 0, 1440)
    fraud_locks_user: bool = _bool(False)
    sms_passcodes_enabled: bool = _bool(True)
    phone_calls_enabled: bool = _bool(True)
    sms_batch_cooldown: int = _int(60, 0, 86400)
    sms_daily_limit: int = _int(10, 1, 1000)
    call_timeout: int = _int(60, 1, 600)
    sms_batch: int = _int(10, 1, 10)
    sms_expiration: int = _int(0, 0, 525600)
    sms_message: str = _str("SMS passcodes")
    keypress_confirm: str = _str("#", 1, KEYS)
    keypress_fraud: str = _str("3", 1, KEYS)
    unenrolled_user_lockout_threshold: int = _int(0, 0, 365)
    admin_lockout_threshold: int = _int(10, 1, 100)
    """Failed Admin Panel sign-ins that lock an administrator out (an Owner resets it)."""
    bypass_default_expiration: int = _int(60, 0, 525600)
    """Minutes a bypass code lives when its creator names no expiry (0 = never): one hour, as
    the seeds say ("by default, bypass codes expire after a single use or in one hour")."""
    inactive_user_expiration: int = _int(0, 0, 365)
    """Days without authentication after which a user is sent to the Trash (0 = never)."""
    pending_deletion_days: int = _int(7, 1, 30)
    """Days a user stays in the Trash before the sweep deletes it for good (seed 001: 1-30,
    default 7)."""
    # Accepted and returned for compatibility; later issues give them behaviour.
    log_retention_days: int = _int(0, 0, 365)
    sms_refresh: bool = _bool(False)
    fraud_email: str = _ruled("", EmailRule())
    fraud_email_enabled: bool = _bool(False)
    timezone: str = _ruled("UTC", TimezoneRule())
    telephony_warning_min: int = _int(0, 0, 1_000_000)
    caller_id: str = _ruled("", PhoneNumberRule())
    user_telephony_cost_max: int = _int(20, 1, 1000)
    minimum_password_length: int = _int(12, 12, 100)
    password_requires_upper_alpha: bool = _bool(False)
    password_requires_lower_alpha: bool = _bool(False)
    password_requires_numeric: bool = _bool(False)
    password_requires_special: bool = _bool(False)
    helpdesk_bypass: str = _str("allow", 5, ("allow", "limit", "deny"))
    helpdesk_bypass_expiration: int = _int(0, 0, 525600)
    helpdesk_message: str = _str("")
    helpdesk_can_send_enroll_email: bool = _bool(False)
    security_checkup_enabled: bool = _bool(True)
    user_managers_can_put_users_in_bypass: bool = _bool(True)
    email_activity_notification_enabled: bool = _bool(False)
    push_activity_notification_enabled: bool = _bool(False)
    enrollment_universal_prompt_enabled: bool = _bool(False)

    @classmethod
    def from_stored(cls, stored: Mapping[str, str]) -> AccountSettings:
        """Parse the stored strings; a value the schema no longer accepts falls back to default."""
        values: dict[str, SettingValue] = {}
        for name, rule in SCHEMA.items():
            raw = stored.get(name)
            if raw is None:
                continue
            try:
                values[name] = rule.parse(name, raw)
            except InvalidParameter:
                continue
        return cls(**values)  # type: ignore[arg-type]

    @property
    def lockout_expire_ms(self) -> int:
        """Automatic unlock after this many ms; 0 = only an admin unlocks."""
        return self.lockout_expire_duration * 60_000

    @property
    def hotp_window(self) -> int:
        """Counters tried ahead of the next expected one: [counter, counter + window)."""
        return self.hotp_lookahead_window

    @property
    def push_timeout_ms(self) -> int:
        return self.push_timeout * 1000

    @property
    def call_timeout_ms(self) -> int:
        return self.call_timeout * 1000

    @property
    def push_cooldown_ms(self) -> int:
        return self.push_cooldown_minutes * 60_000

    @property
    def verified_push_code_digits(self) -> int | None:
        """Digits of the Verified Push code, None when Verified Push is off."""
        return self.verified_push_digits if self.verified_push_enabled else None

    @property
    def sms_enabled(self) -> bool:
        return self.sms_passcodes_enabled

    @property
    def calls_enabled(self) -> bool:
        return self.phone_calls_enabled

    @property
    def sms_expiration_ms(self) -> int:
        """SMS passcodes expire after this many ms; 0 = never."""
        return self.sms_expiration * 60_000

    @property
    def sms_cooldown_ms(self) -> int:
        return self.sms_batch_cooldown * 1000

    def as_response(self) -> dict[str, Any]:
        """The `get_settings` response object."""
        return {"name": "authsvc", **{name: getattr(self, name) for name in SCHEMA}}


SCHEMA: dict[str, Rule] = {
    spec.name: spec.metadata["rule"] for spec in dataclasses.fields(AccountSettings)}

# Sent by older clients; Duo ignores them, and so do we (they are not errors).
IGNORED = frozenset({
    "_version",
    "push_enabled", "sms_enabled", "voice_enabled", "mobile_otp_enabled", "u2f_enabled",
    "reactivation_url", "reactivation_integration_key", "account_id",
})


def validate_update(params: Mapping[str, object]) -> dict[str, str]:
    """Check an `update_settings` request; returns the values to store, as strings.

    Raises InvalidParameter naming the first unknown or invalid field, or when nothing is given.
    """
    updates: dict[str, str] = {}
    for name, raw in params.items():
        if name in IGNORED:
            continue
        rule = SCHEMA.get(name)
        if rule is None:
            raise InvalidParameter(f"{name} (unknown setting)")
        value = rule.parse(name, raw)
        updates[name] = ("1" if value else "0") if isinstance(value, bool) else str(value)
    if not updates:
        raise InvalidParameter("no settings were given")
    return updates
