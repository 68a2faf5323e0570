"""Account-wide settings (`get_settings` / `update_settings`): schema, defaults, validation.

Every field duo_client's `update_settings` can send is accepted and returned, so the call works
unmodified; the ones this service acts on are documented in docs/api.md. Values are validated
here once, stored as strings in one Redis hash, and parsed back with their defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from authsvc.errors import InvalidParameter

SettingValue = int | bool | str


@dataclass(frozen=True, slots=True)
class IntField:
    default: int
    minimum: int
    maximum: int

    def parse(self, name: str, raw: object) -> int:
        if isinstance(raw, bool) or not isinstance(raw, int | str):
            raise InvalidParameter(name)
        try:
            value = int(raw)
        except ValueError:
            raise InvalidParameter(name) from None
        if not self.minimum <= value <= self.maximum:
            raise InvalidParameter(f"{name} (must be {self.minimum}..{self.maximum})")
        return value


@dataclass(frozen=True, slots=True)
class BoolField:
    default: bool

    def parse(self, name: str, raw: object) -> bool:
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in ("1", "true"):
            return True
        if text in ("0", "false"):
            return False
        raise InvalidParameter(name)


@dataclass(frozen=True, slots=True)
class StrField:
    default: str
    max_length: int = 1024
    choices: tuple[str, ...] = ()

    def parse(self, name: str, raw: object) -> str:
        if not isinstance(raw, str) or len(raw) > self.max_length or not raw.isprintable():
            raise InvalidParameter(name)
        if self.choices and raw not in self.choices:
            raise InvalidParameter(f"{name} (one of {', '.join(self.choices)})")
        return raw


Field = IntField | BoolField | StrField

SCHEMA: dict[str, Field] = {
    # Acted on by this service.
    "lockout_threshold": IntField(10, 1, 9999),
    "lockout_expire_duration": IntField(0, 0, 30000),
    "hotp_lookahead_window": IntField(20, 1, 1000),
    "push_timeout": IntField(60, 1, 600),
    "verified_push_enabled": BoolField(False),
    "verified_push_digits": IntField(3, 3, 6),
    "push_max_outstanding": IntField(3, 1, 100),
    "push_cooldown_after": IntField(5, 0, 100),
    "push_cooldown_minutes": IntField(15, 0, 1440),
    "fraud_locks_user": BoolField(False),
    "sms_passcodes_enabled": BoolField(True),
    "phone_calls_enabled": BoolField(True),
    "sms_batch_cooldown": IntField(60, 0, 86400),
    "sms_daily_limit": IntField(10, 1, 1000),
    "call_timeout": IntField(60, 1, 600),
    # Accepted and returned for compatibility; later issues give them behaviour.
    "inactive_user_expiration": IntField(0, 0, 365),
    "pending_deletion_days": IntField(7, 1, 30),
    "log_retention_days": IntField(0, 0, 365),
    "sms_batch": IntField(10, 1, 10),
    "sms_expiration": IntField(0, 0, 525600),
    "sms_refresh": BoolField(False),
    "sms_message": StrField("SMS passcodes"),
    "fraud_email": StrField(""),
    "fraud_email_enabled": BoolField(False),
    "keypress_confirm": StrField("#", 1, tuple("0123456789#*")),
    "keypress_fraud": StrField("3", 1, tuple("0123456789#*")),
    "timezone": StrField("UTC", 64),
    "telephony_warning_min": IntField(0, 0, 1_000_000),
    "caller_id": StrField("", 32),
    "user_telephony_cost_max": IntField(20, 1, 1000),
    "minimum_password_length": IntField(12, 12, 100),
    "password_requires_upper_alpha": BoolField(False),
    "password_requires_lower_alpha": BoolField(False),
    "password_requires_numeric": BoolField(False),
    "password_requires_special": BoolField(False),
    "helpdesk_bypass": StrField("allow", 5, ("allow", "limit", "deny")),
    "helpdesk_bypass_expiration": IntField(0, 0, 525600),
    "helpdesk_message": StrField(""),
    "helpdesk_can_send_enroll_email": BoolField(False),
    "security_checkup_enabled": BoolField(True),
    "user_managers_can_put_users_in_bypass": BoolField(True),
    "email_activity_notification_enabled": BoolField(False),
    "push_activity_notification_enabled": BoolField(False),
    "unenrolled_user_lockout_threshold": IntField(0, 0, 365),
    "enrollment_universal_prompt_enabled": BoolField(False),
}

# Sent by older clients; Duo ignores them, and so do we (they are not errors).
IGNORED = frozenset({
    "_version",
    "push_enabled", "sms_enabled", "voice_enabled", "mobile_otp_enabled", "u2f_enabled",
    "reactivation_url", "reactivation_integration_key", "account_id",
})


@dataclass(frozen=True, slots=True)
class AccountSettings:
    """The settings in force: stored values over defaults."""

    values: Mapping[str, SettingValue]

    @classmethod
    def from_stored(cls, stored: Mapping[str, str]) -> AccountSettings:
        """Parse the stored strings; a value the schema no longer accepts falls back to default."""
        values: dict[str, SettingValue] = {}
        for name, spec in SCHEMA.items():
            raw = stored.get(name)
            try:
                values[name] = spec.default if raw is None else spec.parse(name, raw)
            except InvalidParameter:
                values[name] = spec.default
        return cls(values)

    def _int(self, name: str) -> int:
        value = self.values[name]
        assert isinstance(value, int)  # noqa: S101 - guaranteed by SCHEMA
        return value

    @property
    def lockout_threshold(self) -> int:
        return self._int("lockout_threshold")

    @property
    def lockout_expire_ms(self) -> int:
        """Automatic unlock after this many ms; 0 = only an admin unlocks."""
        return self._int("lockout_expire_duration") * 60_000

    @property
    def hotp_window(self) -> int:
        """Counters tried ahead of the next expected one: [counter, counter + window)."""
        return self._int("hotp_lookahead_window")

    def _bool(self, name: str) -> bool:
        return bool(self.values[name])

    @property
    def push_timeout_ms(self) -> int:
        return self._int("push_timeout") * 1000

    @property
    def call_timeout_ms(self) -> int:
        return self._int("call_timeout") * 1000

    @property
    def verified_push_digits(self) -> int | None:
        """Digits of the Verified Push code, None when Verified Push is off."""
        return self._int("verified_push_digits") if self._bool("verified_push_enabled") else None

    @property
    def fraud_locks_user(self) -> bool:
        return self._bool("fraud_locks_user")

    @property
    def sms_enabled(self) -> bool:
        return self._bool("sms_passcodes_enabled")

    @property
    def calls_enabled(self) -> bool:
        return self._bool("phone_calls_enabled")

    @property
    def sms_batch_size(self) -> int:
        return self._int("sms_batch")

    @property
    def sms_expiration_ms(self) -> int:
        """SMS passcodes expire after this many ms; 0 = never."""
        return self._int("sms_expiration") * 60_000

    @property
    def unenrolled_lockout_days(self) -> int:
        return self._int("unenrolled_user_lockout_threshold")

    def as_response(self) -> dict[str, Any]:
        """The `get_settings` response object."""
        return {"name": "authsvc", **self.values}


def validate_update(params: Mapping[str, object]) -> dict[str, str]:
    """Check an `update_settings` request; returns the values to store, as strings.

    Raises InvalidParameter naming the first unknown or invalid field, or when nothing is given.
    """
    updates: dict[str, str] = {}
    for name, raw in params.items():
        if name in IGNORED:
            continue
        spec = SCHEMA.get(name)
        if spec is None:
            raise InvalidParameter(f"{name} (unknown setting)")
        value = spec.parse(name, raw)
        updates[name] = ("1" if value else "0") if isinstance(value, bool) else str(value)
    if not updates:
        raise InvalidParameter("no settings were given")
    return updates
