"""The "Not enrolled" lockout: users who have enrolled nothing `unenrolled_user_lockout_threshold`
days after they were created are locked out, with that reason.

Two ways in, one rule (``unenrolled_lock.lua`` checks and locks atomically):

- at preauth, for the user asking (`lock_if_due`), so the rule holds the moment it applies;
- a periodic sweep (`run`), so that users who never come back show as locked out in the Admin
  API too. One process sweeps at a time (a lock in Redis), and each sweep looks only at users
  who have crossed the deadline since the last one: the user listing is ordered by creation
  time, and how far the sweep came is kept in Redis.
"""

from __future__ import annotations

import logging

from authsvc.clock import Clock
from authsvc.domain.periodic import run_every
from authsvc.model.settings import AccountSettings
from authsvc.store import Store

log = logging.getLogger(__name__)
DAY_S = 86_400
PAGE = 500


class UnenrolledLockout:
    """Apply the "Not enrolled" lockout to one user, or sweep all who became due."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    def _deadline_s(self, settings: AccountSettings) -> int | None:
        """Users created at or before this (seconds) are due; None while the rule is off."""
        days = settings.unenrolled_user_lockout_threshold
        return int(self._clock.now()) - days * DAY_S if days else None

    async def lock_if_due(self, user_id: str, settings: AccountSettings) -> bool:
        """Lock this user out if the rule applies to them now."""
        deadline = self._deadline_s(settings)
        if deadline is None:
            return False
        return await self._store.unenrolled.lock_if_unenrolled(
            user_id, created_by_s=deadline, now_ms=self._clock.now_ms())

    async def sweep(self, hold_ms: int = 600_000) -> int:
        """Lock out every user who became due since the last sweep; how many were locked.

        Does nothing while the rule is off or another process is sweeping.
        """
        deadline = self._deadline_s(await self._store.account.get())
        if deadline is None or not await self._store.unenrolled.claim_sweep(hold_ms):
            return 0
        try:
            return await self._sweep_to(deadline)
        finally:
            await self._store.unenrolled.release_sweep()

    async def _sweep_to(self, deadline_s: int) -> int:
        store, now_ms = self._store.unenrolled, self._clock.now_ms()
        after_ms, until_ms = await store.swept_until_ms(), deadline_s * 1000
        if after_ms is not None and after_ms >= until_ms:
            return 0  # the deadline moved back (a longer threshold): nobody new is due yet
        locked, offset = 0, 0
        while page := await store.created_between(after_ms, until_ms, offset=offset, count=PAGE):
            for user_id in page:
                locked += await store.lock_if_unenrolled(user_id, created_by_s=deadline_s,
                                                         now_ms=now_ms)
            offset += len(page)
        await store.set_swept_until(until_ms)
        if locked:
            log.info('locked out %d user(s) with reason "Not enrolled"', locked)
        return locked

    async def run(self, every_s: float) -> None:
        """Sweep every `every_s` seconds until cancelled; Redis outages only delay it."""
        await run_every(every_s, lambda: self.sweep(hold_ms=int(every_s * 1000)),
                        "Not-enrolled sweep")
