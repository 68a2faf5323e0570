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


def test_every_script_that_changes_a_users_status_or_devices_counts_the_user() -> None:
    """The user counters stay exact only if every script writing a status, a last login or a
    device in the user's slot ends with count_user (lib/user_counts.lua)."""
    writes = ("'status'", "'last_login'", "ck.tokens", "ck.phones")
    for name, script in load_sources().items():
        body = script.source.split("local function count_user(")[-1]
        if any(write in body for write in writes) and name is not ScriptName.HASH_SET_EXISTING:
            assert "count_user(user_key" in body, name


def test_the_status_gate_refuses_a_user_in_the_trash() -> None:
    source = load_sources()[ScriptName.PASSCODE_ATTEMPT].source
    assert "status == 'pending deletion' then return 5" in source
