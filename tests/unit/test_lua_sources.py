"""The Lua sources as Redis receives them: includes expanded, one gate shared."""

from __future__ import annotations

import re
from importlib import resources

from authsvc.store.scripts import INCLUDE, ScriptName, load_sources


def test_no_script_reaches_redis_with_an_include_line_left() -> None:
    for script in load_sources().values():
        assert INCLUDE not in script.source, script.name


def test_a_library_included_twice_is_pasted_in_once() -> None:
    """passcode_attempt includes token_copies through both user_counts and user_view."""
    source = load_sources()[ScriptName.PASSCODE_ATTEMPT].source
    assert source.count("local function token_copies(") == 1
    assert source.index("local function token_copies(") < source.index("local function place_of(")


def test_the_attempt_deciding_scripts_share_one_status_gate() -> None:
    sources = load_sources()
    for name in (ScriptName.PASSCODE_ATTEMPT, ScriptName.PUSH_CREATE):
        source = sources[name].source
        assert source.count("local function status_gate(") == 1, name
        assert "status_gate(user_key, now," in source.split("local function status_gate(")[1]


def test_every_script_that_changes_a_users_status_or_devices_counts_the_user() -> None:
    """The user counters stay exact only if every script writing a status, a last login or a
    device in the user's slot moves the user's counters (lib/user_counts.lua) in the same call."""
    # The libraries' own text, cut at their include lines (what they include is pasted there).
    libraries = [piece for name in ("user_counts", "status_gate", "user_view", "token_copies")
                 for piece in re.split(r"^--#include .*\n", resources.files("authsvc.store")
                                       .joinpath(f"lua/lib/{name}.lua").read_text(), flags=re.M)
                 if piece.strip()]
    writes = ("'status'", "'last_login'", "'HSET', user_key, unpack(ARGV)", "ck.tokens", "ck.phones")
    # Scripts that write administrators (slot {admins}) or a group, never a user's slot.
    not_about_users = {ScriptName.HASH_SET_EXISTING, ScriptName.ADMIN_CHANGE,
                       ScriptName.ADMIN_SIGNIN_FAILED}
    checked = []
    for name, script in load_sources().items():
        body = script.source
        for library in libraries:
            body = body.replace(library, "")
        if any(write in body for write in writes) and name not in not_about_users:
            assert "count_user(" in body or "count_login(" in body, name
            checked.append(name)
    assert len(checked) >= 11  # the check sees the scripts it is about


def test_the_status_gate_refuses_a_user_in_the_trash() -> None:
    source = load_sources()[ScriptName.PASSCODE_ATTEMPT].source
    assert "status == 'pending deletion' then return 5" in source
