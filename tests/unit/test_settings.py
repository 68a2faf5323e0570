"""Process settings from AUTHSVC_* variables, and the one documented table of them."""

from __future__ import annotations

from pathlib import Path

import pytest

from authsvc.model.ratelimits import Limiter, RateLimit
from authsvc.settings import ENV_TABLE, Settings, SettingsError


def test_defaults_without_any_variable() -> None:
    settings = Settings.from_env({})
    assert (settings.host, settings.port, settings.redis_url) == ("127.0.0.1", 8080, None)
    assert settings.data_dir == Path("./var") and not settings.tls


def test_variables_are_cast_and_flags_override_them() -> None:
    settings = Settings.from_env({"AUTHSVC_PORT": "9000", "AUTHSVC_ACCESS_LOG": "yes",
                                  "AUTHSVC_REDIS_TIMEOUT": "0.5"}, port=9100, host=None)
    assert settings.port == 9100 and settings.access_log and settings.redis_timeout == 0.5


@pytest.mark.parametrize(("name", "value"), [
    ("AUTHSVC_PORT", "http"), ("AUTHSVC_PORT", "70000"), ("AUTHSVC_ACCESS_LOG", "maybe"),
    ("AUTHSVC_SECRET_KEY", "too-short"), ("AUTHSVC_MAX_BODY_BYTES", "0"),
    ("AUTHSVC_LOG_LEVEL", "loud"), ("AUTHSVC_TLS_CERT", "/only/the/cert.pem"),
    ("AUTHSVC_RATE_LIMIT_IP", "fast"), ("AUTHSVC_RATE_LIMIT_USERNAME", "0/10s"),
    ("AUTHSVC_RATE_LIMIT_FAILED_AUTH_IP", "10/0"),
])
def test_a_bad_value_is_an_error_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


def test_the_secret_key_never_shows_in_repr() -> None:
    settings = Settings.from_env({"AUTHSVC_SECRET_KEY": "s3cr3t" * 8})
    assert "s3cr3t" not in repr(settings)
    assert settings.secret_key is not None and settings.secret_key.value == "s3cr3t" * 8


def test_every_setting_has_a_variable_and_the_docs_list_them_all(repo_root: Path) -> None:
    fields = set(Settings.__dataclass_fields__)
    assert {var.field for var in ENV_TABLE} == fields
    docs = (repo_root / "docs" / "configuration.md").read_text()
    for var in ENV_TABLE:
        assert f"`{var.name}`" in docs


def test_rate_limits_have_defaults_and_are_set_or_turned_off_by_variables() -> None:
    settings = Settings.from_env({"AUTHSVC_RATE_LIMIT_IP": "500/5s",
                                  "AUTHSVC_RATE_LIMIT_USERNAME": "off",
                                  "AUTHSVC_RATE_LIMIT_UNKNOWN_USERS": "0"})
    limits = settings.rate_limits
    assert limits[Limiter.IP] == RateLimit(500, 5) and RateLimit(500, 5).interval_ms == 10
    assert limits[Limiter.USERNAME] is None and limits[Limiter.UNKNOWN_USERS] is None
    assert limits[Limiter.FAILED_AUTH_INTEGRATION] == RateLimit(200, 20)
    assert str(limits[Limiter.INTEGRATION]) == "20000/2s"


def test_a_number_that_is_not_one_is_named_plainly() -> None:
    with pytest.raises(SettingsError, match=r"AUTHSVC_WORKERS='x': must be a whole number$"):
        Settings.from_env({"AUTHSVC_WORKERS": "x"})
    with pytest.raises(SettingsError, match=r"AUTHSVC_REDIS_TIMEOUT='soon': must be a number$"):
        Settings.from_env({"AUTHSVC_REDIS_TIMEOUT": "soon"})
