"""The counts at the top of the Users page (seed 001, Listing Users) and Duo's `info/summary`,
read from the counters the scripts keep exact (`store/counts.py`): never a scan of the users."""

from __future__ import annotations

from typing import Any

from authsvc.clock import Clock
from authsvc.model.users import INACTIVE_DAYS, UserCounts
from authsvc.store import Store

DAY_S = 86_400


class UserCounter:
    """Users by category, and the account summary."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def counts(self) -> UserCounts:
        """Total, Not Enrolled (pending enrollments included: they have no device), Inactive
        (no authentication in 30 days), Trash, Bypass, Locked Out (expired lockouts left out),
        and the other statuses."""
        settings = await self._store.account.cached()
        expire_ms = settings.lockout_expire_ms
        return await self._store.counts.totals(
            inactive_by_s=int(self._clock.now()) - INACTIVE_DAYS * DAY_S,
            locked_after_ms=self._clock.now_ms() - expire_ms if expire_ms else None)

    async def summary(self) -> dict[str, Any]:
        """`get_info_summary`: Duo's fields where they apply; no telephony credit balance
        (null: a self-hosted service sends through its own provider; the telephony log counts
        the credits used)."""
        counts = await self.counts()
        return {"admin_count": await self._store.admins.count(),
                "integration_count": await self._store.integrations.count(),
                "telephony_credits_remaining": None, "user_count": counts.total,
                "user_pending_deletion_count": counts.trash}
