"""Account settings in Redis (one hash of strings; parsing and defaults in the domain).

Every update also increments the hash's ``_version`` field. The hot path reads only that field
(pipelined with the user's record, so it costs no round trip) and re-reads and re-parses the
settings only when the version differs from the one this process holds: a change made through
any process takes effect everywhere at the next request.
"""

from __future__ import annotations

from collections.abc import Mapping

from authsvc.model.settings import AccountSettings
from authsvc.store.core import StoreContext, flat_to_dict
from authsvc.store.keys import Keys

VERSION_FIELD = "_version"
# The groups' version lives in the same hash so that the hot path reads both versions with one
# HMGET (one command fewer per Auth API request than a key of its own); a group change moves
# only this field, so it never makes a process re-read the settings.
GROUPS_VERSION_FIELD = "_groups_version"


class AccountStore:
    """Read and update the account settings."""

    def __init__(self, ctx: StoreContext) -> None:
        self._ctx = ctx
        self._keys = ctx.keys
        self._cached: tuple[str | None, AccountSettings] | None = None

    def version_command(self) -> tuple[str, str, str]:
        """The command that reads the settings' version (pipelined by the hot path)."""
        return ("HGET", self._keys.account_settings(), VERSION_FIELD)

    async def for_version(self, version: str | None) -> AccountSettings:
        """The settings, re-read only if `version` is not the one already parsed."""
        if self._cached is not None and self._cached[0] == version:
            return self._cached[1]
        return await self.get()

    def is_current(self, version: str | None) -> bool:
        """True when the settings this process holds are those of `version`."""
        return self._cached is not None and self._cached[0] == version

    def settled(self) -> AccountSettings | None:
        """The settings last read (None before the first read), without reading: the hot path
        reads their version along with each decision and calls `for_version` with it, so these
        are never older than the last decision this process made."""
        return self._cached[1] if self._cached is not None else None

    async def cached(self) -> AccountSettings:
        """The settings as of the current version (one HGET when unchanged)."""
        return await self.for_version(await self._ctx.redis.execute(*self.version_command()))

    @staticmethod
    def read_command_for(keys: Keys) -> tuple[str, str]:
        """The command that reads the settings, for callers that pipeline it with others."""
        return ("HGETALL", keys.account_settings())

    @staticmethod
    def parse(reply: list[str] | None) -> AccountSettings:
        """Settings from the reply of `read_command`."""
        return AccountSettings.from_stored(flat_to_dict(reply))

    async def get(self) -> AccountSettings:
        """The settings in force (read now, and remembered with their version)."""
        stored = flat_to_dict(await self._ctx.redis.execute(*self.read_command_for(self._keys)))
        settings = AccountSettings.from_stored(stored)
        self._cached = (stored.get(VERSION_FIELD), settings)
        return settings

    async def update(self, values: Mapping[str, str]) -> AccountSettings:
        """Store validated values; returns the settings now in force."""
        fields = [item for pair in values.items() for item in pair]
        await self._ctx.redis.pipeline([
            ("HSET", self._keys.account_settings(), *fields),
            ("HINCRBY", self._keys.account_settings(), VERSION_FIELD, 1)])
        return await self.get()
