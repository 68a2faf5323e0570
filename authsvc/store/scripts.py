"""The Lua scripts: read once from package data, registered at startup, called by EVALSHA.

A script missing from the server's cache (after ``SCRIPT FLUSH``, a restart, a failover) answers
NOSCRIPT; `ScriptRunner.run` then loads it again and retries once, so callers never see it.
Every script has one typed wrapper in `store/` that turns its integer replies into values.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

from authsvc.model.values import value
from authsvc.store.redis_client import Arg, Redis, RedisError


class ScriptName(StrEnum):
    """One member per ``store/lua/<name>.lua`` file."""

    PASSCODE_ATTEMPT = "passcode_attempt"
    NAMES_CLAIM = "names_claim"
    BYPASS_ADD = "bypass_add"
    BYPASS_DELETE = "bypass_delete"
    TOKEN_TAKE = "token_take"  # noqa: S105 - a script name, not a secret
    TOKEN_GIVE = "token_give"  # noqa: S105 - a script name, not a secret
    HOTP_SET_COUNTER = "hotp_set_counter"
    HASH_SET_EXISTING = "hash_set_existing"
    LISTING_APPEND = "listing_append"
    LISTING_REMOVE = "listing_remove"
    PUSH_CREATE = "push_create"
    PUSH_RESOLVE = "push_resolve"
    PUSH_DELIVER = "push_deliver"
    LOG_APPEND = "log_append"
    SMS_ISSUE = "sms_issue"
    UNENROLLED_LOCK = "unenrolled_lock"
    ADMIN_CHANGE = "admin_change"
    ADMIN_SIGNIN_FAILED = "admin_signin_failed"
    ADMIN_UNIT_SAVE = "admin_unit_save"
    ADMIN_UNIT_DELETE = "admin_unit_delete"
    ADMIN_UNIT_MEMBER = "admin_unit_member"
    USER_GROUPS = "user_groups"
    GROUP_MEMBER_ADD = "group_member_add"
    RATE_LIMIT = "rate_limit"
    USER_CREATE = "user_create"
    USER_STATUS = "user_status"
    USER_TRASH = "user_trash"
    USER_RESTORE = "user_restore"
    USER_PURGE = "user_purge"
    USER_RECOUNT = "user_recount"
    USER_SEEN = "user_seen"
    USER_LOAD = "user_load"
    TOKEN_HOLDERS = "token_holders"  # noqa: S105 - a script name, not a secret


@value
class ScriptCall:
    """One script call to send with others (`ScriptRunner.run_pipeline`)."""

    name: ScriptName
    keys: Sequence[str]
    args: Sequence[Arg]


@dataclass(frozen=True, slots=True)
class Script:
    """A script's source and its SHA-1 (what EVALSHA names it by)."""

    name: ScriptName
    source: str
    sha: str

    @classmethod
    def of(cls, name: ScriptName, source: str) -> Script:
        return cls(name, source, hashlib.sha1(source.encode()).hexdigest())  # noqa: S324


INCLUDE = "--#include "


def expand_includes(source: str, library: Traversable, seen: set[str] | None = None) -> str:
    """Replace each ``--#include NAME`` line with ``lua/lib/NAME.lua``, itself expanded; a
    piece included twice (directly and through another piece) is pasted in once, the first
    time.

    Redis runs one self-contained chunk per script and Lua there has no ``require``, so a piece
    that several scripts share (the user-status gate) lives once in ``lib/`` and is pasted in
    before the SHA is taken.
    """
    seen = set() if seen is None else seen
    lines = []
    for line in source.splitlines(keepends=True):
        if not line.startswith(INCLUDE):
            lines.append(line)
            continue
        name = line.removeprefix(INCLUDE).strip()
        if name not in seen:
            seen.add(name)
            lines.append(expand_includes(
                library.joinpath(f"{name}.lua").read_text(encoding="utf-8"), library, seen))
    return "".join(lines)


def load_sources() -> dict[ScriptName, Script]:
    """Every script, read from the package's ``lua/`` folder, includes expanded."""
    folder = resources.files("authsvc.store").joinpath("lua")
    library = folder.joinpath("lib")
    return {
        name: Script.of(name, expand_includes(
            folder.joinpath(f"{name.value}.lua").read_text(encoding="utf-8"), library))
        for name in ScriptName
    }


_SOURCES = load_sources()


class ScriptRunner:
    """Runs the scripts on one Redis connection, reloading them when Redis forgot them."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._scripts = _SOURCES

    async def register(self) -> None:
        """SCRIPT LOAD every script (at startup; cheap when already cached)."""
        await self._redis.pipeline(
            [("SCRIPT", "LOAD", script.source) for script in self._scripts.values()])

    def command(self, name: ScriptName, keys: Sequence[str], args: Sequence[Arg]
                ) -> tuple[Arg, ...]:
        """The EVALSHA command of a script, to queue in a MULTI/EXEC block; the caller handles
        NOSCRIPT (`load`, then run it again)."""
        return ("EVALSHA", self._scripts[name].sha, len(keys), *keys, *args)

    async def load(self, name: ScriptName) -> None:
        """SCRIPT LOAD one script (after a NOSCRIPT reply inside a transaction)."""
        await self._redis.execute("SCRIPT", "LOAD", self._scripts[name].source)

    async def send(self, name: ScriptName, keys: Sequence[str], args: Sequence[Arg]
                   ) -> asyncio.Future[Any]:
        """EVALSHA without waiting for the reply (the script must be loaded: `register` ran at
        startup, and a NOSCRIPT reply is left to the caller's callback)."""
        script = self._scripts[name]
        return await self._redis.send("EVALSHA", script.sha, len(keys), *keys, *args)

    async def run(self, name: ScriptName, keys: Sequence[str], args: Sequence[Arg]) -> Any:
        """EVALSHA the script; on NOSCRIPT load it and try once more."""
        script = self._scripts[name]
        try:
            return await self._redis.execute("EVALSHA", script.sha, len(keys), *keys, *args)
        except RedisError as exc:
            if not str(exc).startswith("NOSCRIPT"):
                raise
        await self._redis.execute("SCRIPT", "LOAD", script.source)
        return await self._redis.execute("EVALSHA", script.sha, len(keys), *keys, *args)

    async def run_waited(self, name: ScriptName, keys: Sequence[str], args: Sequence[Arg]
                         ) -> tuple[Any, bool]:
        """EVALSHA the script, then WAIT for replicas on the same connection (see
        `Redis.execute_waited`): its reply, and False when too few replicas acknowledged."""
        script = self._scripts[name]
        command = ("EVALSHA", script.sha, len(keys), *keys, *args)
        try:
            return await self._redis.execute_waited(*command)
        except RedisError as exc:
            if not str(exc).startswith("NOSCRIPT"):
                raise
        await self._redis.execute("SCRIPT", "LOAD", script.source)
        return await self._redis.execute_waited(*command)

    async def run_many(self, name: ScriptName,
                       calls: Sequence[tuple[Sequence[str], Sequence[Arg]]]) -> list[Any]:
        """EVALSHA the script once per (keys, args) in one pipeline (each call may be in
        another slot); calls answered NOSCRIPT are retried once after loading it. Any other
        error reply raises RedisError."""
        script = self._scripts[name]
        commands = [("EVALSHA", script.sha, len(keys), *keys, *args) for keys, args in calls]
        replies = await self._redis.pipeline(commands)
        missing = [i for i, reply in enumerate(replies)
                   if isinstance(reply, RedisError) and str(reply).startswith("NOSCRIPT")]
        if missing:
            await self._redis.execute("SCRIPT", "LOAD", script.source)
            again = await self._redis.pipeline([commands[i] for i in missing])
            for i, reply in zip(missing, again, strict=True):
                replies[i] = reply
        for reply in replies:
            if isinstance(reply, RedisError):
                raise reply
        return replies

    async def run_pipeline(self, calls: Sequence[ScriptCall | tuple[Arg, ...]]) -> list[Any]:
        """Several script calls (and plain read commands) of any slots in one write, replies in
        order, error replies as `RedisError` values. Script calls answered NOSCRIPT ran nothing:
        their scripts are loaded and those calls sent again, in their order, in one more round
        trip (so a call's relative order to the others it came with is kept)."""
        commands = [self.command(call.name, call.keys, call.args)
                    if isinstance(call, ScriptCall) else call
                    for call in calls]
        replies = await self._redis.pipeline(commands)
        missing = [i for i, reply in enumerate(replies)
                   if isinstance(reply, RedisError) and str(reply).startswith("NOSCRIPT")]
        if missing:
            names = {call.name for i in missing if isinstance(call := calls[i], ScriptCall)}
            await self._redis.pipeline(
                [("SCRIPT", "LOAD", self._scripts[name].source) for name in sorted(names)])
            again = await self._redis.pipeline([commands[i] for i in missing])
            for i, reply in zip(missing, again, strict=True):
                replies[i] = reply
        return replies
