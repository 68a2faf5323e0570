"""Which event loop `authsvc serve` runs on (AUTHSVC_EVENT_LOOP)."""

from __future__ import annotations

import asyncio

import pytest
import uvloop

from authsvc import loops
from authsvc.settings import Settings, SettingsError


def test_asyncio_is_asyncio_and_uvloop_is_uvloop() -> None:
    assert loops.loop_factory("asyncio") == (None, "asyncio")
    factory, name = loops.loop_factory("uvloop")
    assert factory is uvloop.new_event_loop and name.startswith("uvloop ")


def test_auto_takes_uvloop_only_once_the_redis_client_supports_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loops, "UVLOOP_SUPPORTED", False)
    assert loops.loop_factory("auto") == (None, "asyncio")
    monkeypatch.setattr(loops, "UVLOOP_SUPPORTED", True)
    assert loops.loop_factory("auto")[0] is uvloop.new_event_loop


def test_run_runs_on_the_chosen_loop() -> None:
    async def kind() -> str:
        return type(asyncio.get_running_loop()).__module__

    assert loops.run(kind(), "uvloop").startswith("uvloop")
    assert loops.run(kind(), "asyncio").startswith("asyncio")


def test_the_settings_name_the_bad_value() -> None:
    with pytest.raises(SettingsError, match="AUTHSVC_EVENT_LOOP"):
        Settings.from_env({"AUTHSVC_EVENT_LOOP": "trio"})
    with pytest.raises(SettingsError, match="AUTHSVC_WORKERS"):
        Settings.from_env({"AUTHSVC_WORKERS": "-1"})
    assert Settings.from_env({"AUTHSVC_WORKERS": "3"}).workers == 3
