"""The periodic work behind the Trash and the user counters, one process at a time.

Each sweep (under a lock in Redis, like the "Not enrolled" sweep):

1. counts every stored user once if the counters were never built (a store from before them);
2. sends to the Trash the users who have not authenticated for `inactive_user_expiration` days
   (0 = off), each re-checked atomically by user_trash.lua so a login racing it wins or loses
   cleanly; seed 001: "User accounts ... purged for inactivity ... first get sent to the Trash";
3. deletes for good the users in the Trash for longer than `pending_deletion_days`, each
   re-checked by user_purge.lua so a restore racing it wins or loses cleanly;
4. deletes the Duo Mobile phones of abandoned inline enrollments (`prompt_devices`).

Incremental: candidates come from the per-slot sets the scripts keep (last activity, time sent
to the Trash) by score, so a sweep reads only users that are due, never the whole listing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from authsvc.clock import Clock
from authsvc.domain.audit import AdminLog
from authsvc.domain.periodic import run_every
from authsvc.domain.prompt_devices import sweep_unfinished
from authsvc.domain.trash import DAY_MS, Trash
from authsvc.model.permissions import SYSTEM
from authsvc.model.settings import AccountSettings
from authsvc.model.users import TrashOutcome
from authsvc.store import Store

log = logging.getLogger(__name__)
PAGE = 200


@dataclass(frozen=True, slots=True)
class SweepReport:
    """What one sweep did."""

    counted: int = 0
    expired: int = 0
    purged: int = 0
    phones: int = 0  # abandoned inline enrollments' phones deleted


class TrashSweep:
    """Expire inactive users into the Trash and empty it of users past their time."""

    def __init__(self, store: Store, clock: Clock, trash: Trash, audit: AdminLog) -> None:
        self._store = store
        self._clock = clock
        self._trash = trash
        self._audit = audit

    async def sweep(self, hold_ms: int = 600_000) -> SweepReport:
        """One sweep (nothing when another process is sweeping)."""
        if not await self._store.trash.claim_sweep(hold_ms):
            return SweepReport()
        try:
            counted = 0
            if not await self._store.counts.ready():
                counted = await self._store.counts.rebuild()
            settings = await self._store.account.get()
            expired = await self._expire_inactive(settings)
            purged = await self._purge_due(settings)
            phones = await sweep_unfinished(self._store, self._clock.now_ms())
        finally:
            await self._store.trash.release_sweep()
        if expired or purged or phones:
            log.info("trash sweep: %d inactive user(s) sent to the Trash, %d deleted for good, "
                     "%d phone(s) of abandoned enrollments deleted", expired, purged, phones)
        return SweepReport(counted, expired, purged, phones)

    async def _expire_inactive(self, settings: AccountSettings) -> int:
        days = settings.inactive_user_expiration
        if not days:
            return 0
        by_s, sent = int(self._clock.now()) - days * 86_400, 0
        while candidates := await self._store.counts.inactive_since(by_s, PAGE):
            round_sent = 0
            for user_id in candidates:
                user = await self._store.users.get(user_id)
                outcome = await self._store.trash.send(
                    user_id, now_ms=self._clock.now_ms(), why="inactive", inactive_by_s=by_s)
                if outcome is TrashOutcome.DONE and user is not None:
                    round_sent += 1
                    await self._audit.record(SYSTEM, "user_delete", user.username,
                                             {"trash": True, "reason": "inactive",
                                              "inactive_days": days})
            sent += round_sent
            if not round_sent:
                break  # every candidate refused (logged in meanwhile): the next sweep retries
        return sent

    async def _purge_due(self, settings: AccountSettings) -> int:
        by_ms, purged = self._clock.now_ms() - settings.pending_deletion_days * DAY_MS, 0
        while candidates := await self._store.counts.trashed_by(by_ms, PAGE):
            round_purged = 0
            for user_id in candidates:
                user = await self._store.users.get(user_id)
                if user is not None and await self._trash.purge(user, trashed_by_ms=by_ms):
                    round_purged += 1
                    await self._audit.record(SYSTEM, "user_delete_permanent", user.username,
                                             {"reason": "trash duration"})
            purged += round_purged
            if not round_purged:
                break  # restored meanwhile: nothing left to do in this sweep
        return purged

    async def run(self, every_s: float) -> None:
        """Sweep at once, then every `every_s` seconds until cancelled."""
        await run_every(every_s, lambda: self.sweep(hold_ms=int(every_s * 1000)),
                        "Trash sweep", at_once=True)
