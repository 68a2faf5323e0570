"""How each setting's text becomes its typed value (`CASTS`, by field); a cast raises
ValueError with what the value must be, which `Settings.from_env` puts after the variable's
name."""

from __future__ import annotations

from collections.abc import Callable
from ipaddress import ip_network
from pathlib import Path
from typing import Any

from authsvc.model.ratelimits import Limiter, RateLimit
from authsvc.settings.values import IPNetwork, Secret


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


CASTS: dict[str, Callable[[str], Any]] = {
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

