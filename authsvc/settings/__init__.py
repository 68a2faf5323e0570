"""Process settings: one frozen dataclass, built once from the environment (and CLI flags).

Every field has an ``AUTHSVC_*`` variable; `ENV_TABLE` is the single list the docs are checked
against. Account-wide policy that an admin changes at run time (lockout threshold, HOTP window)
is not here: it lives in Redis behind the Admin API (`domain/account_settings.py`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from authsvc.model.ratelimits import Limiter, RateLimit
from authsvc.settings.casts import CASTS
from authsvc.settings.table import DEFAULT_RATE_LIMITS, ENV_TABLE, EnvVar
from authsvc.settings.values import IPNetwork, Secret, SettingsError

__all__ = ["DEFAULT_RATE_LIMITS", "ENV_TABLE", "EnvVar", "Secret", "Settings", "SettingsError"]





@dataclass(frozen=True, slots=True)
class Settings:
    """Everything a process needs to start; tests build it directly."""

    host: str = "127.0.0.1"
    port: int = 8080
    tls_cert: Path | None = None
    tls_key: Path | None = None
    public_host: str | None = None
    redis_url: str | None = None
    workers: int = 0
    event_loop: str = "auto"
    listen_backlog: int = 4096
    data_dir: Path = Path("./var")
    redis_server: str = "redis-server"
    secret_key: Secret | None = None
    key_prefix: str = "as"
    max_body_bytes: int = 262_144
    max_skew_seconds: int = 300
    redis_timeout: float = 2.0
    redis_wait_replicas: int | None = None
    redis_wait_ms: int = 250
    authlog_max_entries: int = 1_000_000
    authlog_retention_days: int = 0
    log_level: str = "info"
    access_log: bool = False
    log_format: str = "text"
    metrics_token: Secret | None = None
    metrics_listen: tuple[str, int] | None = None
    trusted_proxies: tuple[IPNetwork, ...] = ()
    delivery: str = "outbox"
    webhook_url: str | None = None
    webhook_secret: Secret | None = None
    webhook_max_attempts: int = 8
    webauthn_rp_id: str | None = None
    webauthn_origins: str | None = None
    u2f_app_id: str | None = None
    unenrolled_sweep_seconds: float = 600.0
    trash_sweep_seconds: float = 600.0
    panel_counts_seconds: float = 10.0
    rate_limit_integration: RateLimit | None = DEFAULT_RATE_LIMITS[Limiter.INTEGRATION]
    rate_limit_ip: RateLimit | None = DEFAULT_RATE_LIMITS[Limiter.IP]
    rate_limit_username: RateLimit | None = DEFAULT_RATE_LIMITS[Limiter.USERNAME]
    rate_limit_unknown_users: RateLimit | None = DEFAULT_RATE_LIMITS[Limiter.UNKNOWN_USERS]
    rate_limit_bad_signatures_ip: RateLimit | None = DEFAULT_RATE_LIMITS[Limiter.BAD_SIGNATURES_IP]
    rate_limit_bad_signatures_ikey: RateLimit | None = \
        DEFAULT_RATE_LIMITS[Limiter.BAD_SIGNATURES_IKEY]
    rate_limit_failed_auth_integration: RateLimit | None = \
        DEFAULT_RATE_LIMITS[Limiter.FAILED_AUTH_INTEGRATION]
    rate_limit_failed_auth_ip: RateLimit | None = DEFAULT_RATE_LIMITS[Limiter.FAILED_AUTH_IP]

    @classmethod
    def from_env(cls, environ: Mapping[str, str], **overrides: Any) -> Settings:
        """Settings from ``AUTHSVC_*`` variables; `overrides` (CLI flags) win when not None."""
        values: dict[str, Any] = {}
        for var in ENV_TABLE:
            raw = environ.get(var.name)
            if raw is None:
                continue
            try:
                values[var.field] = CASTS[var.field](raw)
            except ValueError as exc:
                raise SettingsError(f"{var.name}={raw!r}: {_plain(exc)}") from None
        values.update({name: value for name, value in overrides.items() if value is not None})
        settings = cls(**values)
        settings.check()
        return settings

    def check(self) -> None:
        """Reject combinations that cannot work, naming the settings involved."""
        if (self.tls_cert is None) != (self.tls_key is None):
            raise SettingsError("AUTHSVC_TLS_CERT and AUTHSVC_TLS_KEY must be given together")
        if self.delivery == "webhook" and (not self.webhook_url or self.webhook_secret is None):
            raise SettingsError("AUTHSVC_DELIVERY=webhook needs AUTHSVC_WEBHOOK_URL and "
                                "AUTHSVC_WEBHOOK_SECRET")
        if self.key_prefix and not self.key_prefix.replace("_", "").replace("-", "").isalnum():
            raise SettingsError("AUTHSVC_KEY_PREFIX may hold letters, digits, '-' and '_' only")

    @property
    def rate_limits(self) -> dict[Limiter, RateLimit | None]:
        """Every limiter's limit (None: off)."""
        return {limiter: getattr(self, f"rate_limit_{limiter.value}") for limiter in Limiter}

    @property
    def tls(self) -> bool:
        """True when the service listens with TLS."""
        return self.tls_cert is not None

    def replace(self, **changes: Any) -> Settings:
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)


def _plain(error: ValueError) -> str:
    """A cast's message, with Python's own int()/float() wording said plainly."""
    text = str(error)
    if text.startswith("invalid literal for int()"):
        return "must be a whole number"
    if text.startswith("could not convert string to float"):
        return "must be a number"
    return text
