"""The administrator log: every change an administrator or an Admin API integration makes.

One record per change (Duo's shape: `timestamp`, `username`, `action`, `object`, `description`),
written before the caller gets its answer, never holding a secret: `description` is a JSON
string of the fields that changed, with secret values (codes, keys, passwords) left out by the
callers. Denied calls are recorded too, with action ``access_denied`` (an authsvc addition).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from authsvc.clock import Clock
from authsvc.model.authlog import LogPage, LogQuery
from authsvc.model.permissions import Action, Actor
from authsvc.store import Store

log = logging.getLogger(__name__)
V1_PAGE = 1000


class AdminLog:
    """Write and read the administrator log."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def record(self, actor: Actor, action: str, object_name: str,
                     description: Mapping[str, Any] | None = None) -> None:
        """Store the record of one change by `actor` (`action` from Duo's vocabulary, e.g.
        ``user_update``; `object_name` what it changed)."""
        now = self._clock.now()
        await self._store.adminlog.append_awaited({
            "timestamp": int(now), "ts_ms": int(now * 1000), "username": actor.name,
            "actor": {"kind": actor.kind.value, "id": actor.actor_id,
                      "role": actor.role.value if actor.role else None},
            "action": action, "object": object_name,
            "description": json.dumps(dict(description or {}), sort_keys=True,
                                      separators=(",", ":")),
        }, int(now * 1000))

    async def denied(self, actor: Actor, action: Action, reason: str) -> None:
        """Record (and log) a refused call; nothing was changed."""
        log.warning("denied: %s %s (%s) may not %s: %s", actor.kind.value, actor.actor_id,
                    actor.role.value if actor.role else "grants", action.value, reason)
        await self.record(actor, "access_denied", action.value, {"reason": reason})

    async def since(self, mintime_s: int) -> list[dict[str, Any]]:
        """Admin API v1: the 1,000 oldest records at or after `mintime_s`."""
        page = await self.query(LogQuery(mintime=mintime_s * 1000, maxtime=2**62,
                                         limit=V1_PAGE, ascending=True))
        return [{key: record[key] for key in ("timestamp", "username", "action", "object",
                                               "description")} for record in page.records]

    async def query(self, query: LogQuery) -> LogPage:
        """One page of records (time window in ms, filters on record fields)."""
        return await self._store.adminlog.query(query)
