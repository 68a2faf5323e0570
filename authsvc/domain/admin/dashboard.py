"""The Dashboard: the user counts, the newest denials and fraud reports, and the last 24 hours
of authentications by hour, each read in a constant number of round trips (the counts from
their counters, the denials from the list and the hours from the tallies the authentication
log keeps as it is written: `log_append.lua`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from authsvc.clock import Clock
from authsvc.domain.access import Access
from authsvc.domain.counts import UserCounter
from authsvc.model.permissions import Action, Actor
from authsvc.store import Store

HOURS = 24
RECENT = 10
COUNTS_FRESH_S = 10.0
COUNTS = ("total", "not_enrolled", "inactive", "trash", "bypass", "locked_out")


@dataclass(frozen=True, slots=True)
class Hour:
    """One hour of the chart: its start (unix s) and its allows, denials and fraud reports."""

    start: int
    success: int
    denied: int
    fraud: int

    @property
    def total(self) -> int:
        return self.success + self.denied + self.fraud


@dataclass(frozen=True, slots=True)
class DashboardView:
    """What the Dashboard shows; `recent` and `hours` are empty for a role that may not read
    the logs."""

    counts: dict[str, int]
    recent: list[dict[str, Any]] = field(default_factory=list)
    hours: list[Hour] = field(default_factory=list)


class Dashboard:
    """Read the Dashboard's figures."""

    def __init__(self, store: Store, clock: Clock, access: Access,
                 counts_fresh_s: float = COUNTS_FRESH_S) -> None:
        self._store = store
        self._counts_fresh_s = counts_fresh_s
        self._clock = clock
        self._access = access
        self._counter = UserCounter(store, clock)
        self._counts: tuple[float, dict[str, int]] | None = None

    async def view(self, actor: Actor) -> DashboardView:
        """The counts, and (for a role that reads logs) the denials and the 24 hours."""
        await self._access.require(actor, Action.READ_SUMMARY)
        if actor.scope.restricted:  # account-wide figures cannot be cut to a unit (scope.py)
            return DashboardView({})
        counts = await self.counts(actor)
        if not actor.may(Action.READ_LOGS):
            return DashboardView(counts)
        now_hour = self._clock.now_ms() // 3_600_000
        tallies = await self._store.authlog.hourly(now_hour - HOURS + 1, HOURS)
        hours = [Hour((now_hour - HOURS + 1 + i) * 3600, t.get("success", 0),
                      t.get("denied", 0), t.get("fraud", 0)) for i, t in enumerate(tallies)]
        return DashboardView(counts, await self._store.authlog.recent_denials(RECENT), hours)

    async def counts(self, actor: Actor) -> dict[str, int]:
        """The user counts of seed 001's Users page (total, not enrolled, inactive, Trash,
        bypass, locked out), from the counters the scripts keep (`domain/counts.py`).

        Summing the counters reads every hash slot that holds users (one round trip per 1,024
        slots: up to 17 at 16,384), so the pages share one reading per process for
        ``AUTHSVC_PANEL_COUNTS_SECONDS`` (10 s): a page costs those round trips at most that
        often."""
        await self._access.require(actor, Action.READ_SUMMARY)
        now = self._clock.now()
        if self._counts is None or now - self._counts[0] >= self._counts_fresh_s:
            counts = await self._counter.counts()
            self._counts = (now, {name: getattr(counts, name) for name in COUNTS})
        return dict(self._counts[1])
