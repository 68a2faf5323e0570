"""Account settings in Redis (one hash of strings; parsing and defaults in the domain)."""

from __future__ import annotations

import time
from collections.abc import Mapping

from authsvc.domain.account_settings import AccountSettings
from authsvc.store.core import StoreContext, flat_to_dict
from authsvc.store.keys import Keys

CACHE_SECONDS = 1.0


class AccountStore:
    """Read and update the account settings.

    The hot path reads them through `cached`: at most one HGETALL per process per second. A change
    made through another process therefore takes effect here within a second (changes made
    through this process at once).
    """

    def __init__(self, ctx: StoreContext) -> None:
        self._ctx = ctx
        self._keys = ctx.keys
        self._cached: tuple[float, AccountSettings] | None = None

    async def cached(self) -> AccountSettings:
        """The settings, at most CACHE_SECONDS old."""
        now = time.monotonic()
        if self._cached is not None and self._cached[0] > now:
            return self._cached[1]
        return await self.get()

    @staticmethod
    def read_command_for(keys: Keys) -> tuple[str, str]:
        """The command that reads the settings, for callers that pipeline it with others."""
        return ("HGETALL", keys.account_settings())

    @staticmethod
    def parse(reply: list[str] | None) -> AccountSettings:
        """Settings from the reply of `read_command`."""
        return AccountSettings.from_stored(flat_to_dict(reply))

    async def get(self) -> AccountSettings:
        """The settings in force (read now, and remembered for `cached`)."""
        settings = self.parse(await self._ctx.redis.execute(*self.read_command_for(self._keys)))
        self._cached = (time.monotonic() + CACHE_SECONDS, settings)
        return settings

    async def update(self, values: Mapping[str, str]) -> AccountSettings:
        """Store validated values; returns the settings now in force."""
        fields = [item for pair in values.items() for item in pair]
        await self._ctx.redis.execute("HSET", self._keys.account_settings(), *fields)
        return await self.get()
