"""The account settings an administrator reads and changes through the Admin API."""

from __future__ import annotations

from collections.abc import Mapping

from authsvc.model.settings import AccountSettings, validate_update
from authsvc.store import Store


class AccountPolicy:
    """Read and update the account settings (validated before anything is stored)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def current(self) -> AccountSettings:
        """The settings in force."""
        return await self._store.account.get()

    async def update(self, params: Mapping[str, object]) -> AccountSettings:
        """Apply an `update_settings` request; raises InvalidParameter and then stores nothing."""
        return await self._store.account.update(validate_update(params))
