"""The Lua sources as Redis receives them: includes expanded, one gate shared."""

from __future__ import annotations

from authsvc.store.scripts import INCLUDE, ScriptName, load_sources


def test_no_script_reaches_redis_with_an_include_line_left() -> None:
    for script in load_sources().values():
        assert INCLUDE not in script.source, script.name


def test_the_attempt_deciding_scripts_share_one_status_gate() -> None:
    sources = load_sources()
    for name in (ScriptName.PASSCODE_ATTEMPT, ScriptName.PUSH_CREATE):
        source = sources[name].source
        assert source.count("local function status_gate(") == 1, name
        assert "status_gate(user_key, now," in source.split("local function status_gate(")[1]
