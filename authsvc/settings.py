"""Process settings: one frozen dataclass, built once from the environment (and CLI flags).

Every field has an ``AUTHSVC_*`` variable; `ENV_TABLE` is the single list the docs are checked
against. Account-wide policy that an admin changes at run time (lockout threshold, HOTP window)
is not here: it lives in Redis behind the Admin API (`domain/account_settings.py`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Any

from authsvc.model.ratelimits import Limiter, RateLimit

IPNetwork = IPv4Network | IPv6Network

# Far above honest load (docs/configuration.md says why), far below an attack.
DEFAULT_RATE_LIMITS: dict[Limiter, RateLimit] = {
    Limiter.INTEGRATION: RateLimit(20_000, 2),
    Limiter.IP: RateLimit(20_000, 2),
    Limiter.USERNAME: RateLimit(120, 10),
    Limiter.UNKNOWN_USERS: RateLimit(100, 10),
    Limiter.BAD_SIGNATURES_IP: RateLimit(50, 60),
    Limiter.BAD_SIGNATURES_IKEY: RateLimit(50, 60),
    Limiter.FAILED_AUTH_INTEGRATION: RateLimit(200, 20),
    Limiter.FAILED_AUTH_IP: RateLimit(200, 20),
}


class SettingsError(ValueError):
    """An environment variable holds a value that cannot be used; the message names it."""


@dataclass(frozen=True, slots=True)
class Secret:
    """A string whose repr never shows the value."""

    value: str = field(repr=False)

    def __repr__(self) -> str:
        return "Secret('**********')"


@dataclass(frozen=True, slots=True)
class EnvVar:
    """One row of the settings table: variable, field, default (as text) and meaning."""

    name: str
    field: str
    default: str
    meaning: str


ENV_TABLE: tuple[EnvVar, ...] = (
    EnvVar("AUTHSVC_HOST", "host", "127.0.0.1", "address to listen on (`--host`)"),
    EnvVar("AUTHSVC_PORT", "port", "8080", "port to listen on (`--port`)"),
    EnvVar("AUTHSVC_TLS_CERT", "tls_cert", "", "PEM certificate chain; TLS is on when set with the key"),
    EnvVar("AUTHSVC_TLS_KEY", "tls_key", "", "PEM private key for `AUTHSVC_TLS_CERT`"),
    EnvVar("AUTHSVC_PUBLIC_HOST", "public_host", "",
           "host[:port] written into links and codes; also accepted as the signed host"),
    EnvVar("AUTHSVC_WORKERS", "workers", "0",
           "service processes sharing the port (`--workers`); 0 = one per CPU core"),
    EnvVar("AUTHSVC_EVENT_LOOP", "event_loop", "auto",
           "auto (uvloop when installed and supported), asyncio or uvloop"),
    EnvVar("AUTHSVC_LISTEN_BACKLOG", "listen_backlog", "4096",
           "connections the kernel queues before they are accepted (capped by somaxconn)"),
    EnvVar("AUTHSVC_REDIS_URL", "redis_url", "",
           "external Redis (`redis://[:password@]host:port/db`, `unix:///path.sock?db=0`, any "
           "node of a Redis Cluster, `redis+sentinel://host:26379,host2:26379/master/db`); "
           "unset = start a private redis-server"),
    EnvVar("AUTHSVC_DATA_DIR", "data_dir", "./var",
           "embedded Redis data (AOF) and the generated secret key file"),
    EnvVar("AUTHSVC_REDIS_SERVER", "redis_server", "redis-server",
           "the redis-server binary for the embedded Redis"),
    EnvVar("AUTHSVC_SECRET_KEY", "secret_key", "",
           "master key for secrets at rest (>= 32 chars); unset = `DATA_DIR/secret.key` (0600)"),
    EnvVar("AUTHSVC_KEY_PREFIX", "key_prefix", "as", "prefix of every Redis key"),
    EnvVar("AUTHSVC_MAX_BODY_BYTES", "max_body_bytes", "262144", "larger request bodies get 413"),
    EnvVar("AUTHSVC_MAX_SKEW_SECONDS", "max_skew_seconds", "300",
           "allowed distance between a signed date and the server clock"),
    EnvVar("AUTHSVC_REDIS_TIMEOUT", "redis_timeout", "2.0",
           "seconds a Redis call may take before the request answers 503"),
    EnvVar("AUTHSVC_REDIS_WAIT_REPLICAS", "redis_wait_replicas", "auto",
           "replicas that must acknowledge a decision that consumed something (WAIT) before it "
           "is answered: auto (1 when the master has a replica, else 0), 0 (off) or N"),
    EnvVar("AUTHSVC_REDIS_WAIT_MS", "redis_wait_ms", "250",
           "how long WAIT waits for them; none in time = 503 / 50301"),
    EnvVar("AUTHSVC_AUTHLOG_MAX_ENTRIES", "authlog_max_entries", "1000000",
           "authentication log entries kept (oldest trimmed)"),
    EnvVar("AUTHSVC_AUTHLOG_RETENTION_DAYS", "authlog_retention_days", "0",
           "days authentication log entries are kept (older ones trimmed); 0 = no limit by age"),
    EnvVar("AUTHSVC_DELIVERY", "delivery", "outbox",
           "where SMS, calls and email go: outbox (Redis, read by mobile-sim) or webhook"),
    EnvVar("AUTHSVC_WEBHOOK_URL", "webhook_url", "", "the webhook provider's URL"),
    EnvVar("AUTHSVC_WEBHOOK_SECRET", "webhook_secret", "",
           "HMAC-SHA256 key of the X-Authsvc-Signature header (>= 32 chars)"),
    EnvVar("AUTHSVC_WEBHOOK_MAX_ATTEMPTS", "webhook_max_attempts", "8",
           "attempts per message before it becomes a dead letter"),
    EnvVar("AUTHSVC_WEBAUTHN_RP_ID", "webauthn_rp_id", "",
           "WebAuthn relying-party id; unset = the public host's name"),
    EnvVar("AUTHSVC_WEBAUTHN_ORIGINS", "webauthn_origins", "",
           "comma-separated origins accepted in WebAuthn/U2F client data; unset = the public base URL"),
    EnvVar("AUTHSVC_U2F_APP_ID", "u2f_app_id", "",
           "U2F AppID; unset = <public base URL>/u2f/app-id (which serves the trusted facets)"),
    EnvVar("AUTHSVC_UNENROLLED_SWEEP_SECONDS", "unenrolled_sweep_seconds", "600",
           "how often one process locks out users past `unenrolled_user_lockout_threshold` "
           "days without a device (\"Not enrolled\"); preauth applies it at once anyway"),
    EnvVar("AUTHSVC_TRASH_SWEEP_SECONDS", "trash_sweep_seconds", "600",
           "how often one process sends users inactive for `inactive_user_expiration` days to "
           "the Trash and deletes users in the Trash for longer than `pending_deletion_days`"),
    EnvVar("AUTHSVC_PANEL_COUNTS_SECONDS", "panel_counts_seconds", "10",
           "how long one process shows the same user counts on the Admin Panel's Dashboard and "
           "Users page (reading them sums every hash slot holding users)"),
    EnvVar("AUTHSVC_LOG_LEVEL", "log_level", "info", "debug, info, warning or error"),
    EnvVar("AUTHSVC_ACCESS_LOG", "access_log", "0", "1 = log every HTTP request"),
    EnvVar("AUTHSVC_LOG_FORMAT", "log_format", "text",
           "text (one line per record) or json (one object per line, with `request_id`)"),
    EnvVar("AUTHSVC_METRICS_TOKEN", "metrics_token", "",
           "bearer token (>= 32 chars) opening `/metrics` on the service's port; unset = 404"),
    EnvVar("AUTHSVC_METRICS_LISTEN", "metrics_listen", "",
           "host:port of a plain-HTTP listener serving only `/metrics`, no token; unset = none"),
    EnvVar("AUTHSVC_TRUSTED_PROXIES", "trusted_proxies", "",
           "comma-separated addresses or networks (`10.0.0.0/8`) of reverse proxies whose "
           "`X-Forwarded-For` names the client (rate limits, logs); empty = trust none"),
    *(EnvVar(f"AUTHSVC_RATE_LIMIT_{limiter.value.upper()}", f"rate_limit_{limiter.value}",
             str(DEFAULT_RATE_LIMITS[limiter]), f"rate limit: {limiter.detail.split(': ')[1]} "
             "(N/Ss: a burst of N, then N per S seconds; off)") for limiter in Limiter),
)


def _to_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"not a boolean: {text!r}")


def _to_optional_path(text: str) -> Path | None:
    return Path(text) if text else None


def _to_optional_str(text: str) -> str | None:
    return text or None


def _to_secret(text: str) -> Secret | None:
    if not text:
        return None
    if len(text) < 32:
        raise ValueError("must be at least 32 characters")
    return Secret(text)


def _to_port(text: str) -> int:
    port = int(text)
    if not 0 <= port <= 65535:
        raise ValueError("must be 0..65535")
    return port


def _to_positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise ValueError("must be a positive integer")
    return value


def _to_non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError("must be 0 or a positive integer")
    return value


def _to_positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise ValueError("must be positive")
    return value


def _to_wait_replicas(text: str) -> int | None:
    if text.strip().lower() == "auto":
        return None
    value = int(text)
    if value < 0:
        raise ValueError("must be auto or a number of replicas (0 = off)")
    return value


def _to_networks(text: str) -> tuple[IPNetwork, ...]:
    try:
        return tuple(ip_network(part.strip(), strict=False) for part in text.split(",")
                     if part.strip())
    except ValueError:
        raise ValueError("must be addresses or networks such as 10.0.0.0/8, "
                         "separated by commas") from None


def _one_of(*choices: str) -> Callable[[str], str]:
    def cast(text: str) -> str:
        if text not in choices:
            raise ValueError(f"must be {' or '.join(choices)}")
        return text
    return cast


def _to_listen(text: str) -> tuple[str, int] | None:
    if not text:
        return None
    host, sep, port = text.rpartition(":")
    if not sep or not host:
        raise ValueError("must be host:port")
    return host.strip("[]"), _to_port(port)


def _to_workers(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 256:
        raise ValueError("must be 0 (one per CPU core) to 256")
    return value


def _to_log_level(text: str) -> str:
    level = text.strip().lower()
    if level not in ("debug", "info", "warning", "error"):
        raise ValueError("must be debug, info, warning or error")
    return level


_CASTS: dict[str, Callable[[str], Any]] = {
    "host": str,
    "port": _to_port,
    "tls_cert": _to_optional_path,
    "tls_key": _to_optional_path,
    "public_host": _to_optional_str,
    "redis_url": _to_optional_str,
    "workers": _to_workers,
    "event_loop": _one_of("auto", "asyncio", "uvloop"),
    "listen_backlog": _to_positive_int,
    "data_dir": Path,
    "redis_server": str,
    "secret_key": _to_secret,
    "key_prefix": str,
    "max_body_bytes": _to_positive_int,
    "max_skew_seconds": _to_positive_int,
    "redis_timeout": _to_positive_float,
    "redis_wait_replicas": _to_wait_replicas,
    "redis_wait_ms": _to_positive_int,
    "authlog_max_entries": _to_positive_int,
    "authlog_retention_days": _to_non_negative_int,
    "log_level": _to_log_level,
    "delivery": _one_of("outbox", "webhook"),
    "webhook_url": _to_optional_str,
    "webhook_secret": _to_secret,
    "webhook_max_attempts": _to_positive_int,
    "webauthn_rp_id": _to_optional_str,
    "webauthn_origins": _to_optional_str,
    "u2f_app_id": _to_optional_str,
    "unenrolled_sweep_seconds": _to_positive_float,
    "trash_sweep_seconds": _to_positive_float,
    "panel_counts_seconds": _to_positive_float,
    "access_log": _to_bool,
    "log_format": _one_of("text", "json"),
    "metrics_token": _to_secret,
    "metrics_listen": _to_listen,
    "trusted_proxies": _to_networks,
    **{f"rate_limit_{limiter.value}": RateLimit.parse for limiter in Limiter},
}


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
                values[var.field] = _CASTS[var.field](raw)
            except ValueError as exc:
                raise SettingsError(f"{var.name}={raw!r}: {exc}") from None
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
