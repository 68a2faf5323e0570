"""The authentication log: one Redis stream of JSON records, ids ``<timestamp ms>-<seq>``.

Entry ids carry the record's own timestamp, so mintime/maxtime queries are stream ranges. If the
clock of this process is behind the stream's newest entry (another process's clock runs ahead),
Redis refuses the explicit id and the entry takes the next automatic id instead: the log stays
ordered and nothing is lost. The stream is trimmed (approximately) to AUTHSVC_AUTHLOG_MAX_ENTRIES.

The stream key has no user hash tag: it is never touched by a script together with user keys, so
it is one extra command after the decision (see docs/architecture.md).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from authsvc.store.core import StoreContext
from authsvc.store.redis_client import RedisError

_SCAN_BATCH = 500


@dataclass(frozen=True, slots=True)
class AuthlogQuery:
    """A page request: time window (ms, inclusive), order, cursor and filters.

    `filters` maps a record field path (``user.key``, ``result``, ``reason``, ``factor``,
    ``application.key``, ``event_type``) to the accepted values.
    """

    mintime: int
    maxtime: int
    limit: int = 100
    ascending: bool = False
    after: str | None = None
    filters: Mapping[str, frozenset[str]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AuthlogPage:
    """Records of one page, the cursor of the next page (None at the end) and the match count.

    `total` counts the matches from this page's start to the end of the window: on the first
    page (no cursor) that is every match in the window.
    """

    records: list[dict[str, Any]]
    next_offset: tuple[int, str] | None
    total: int


def _field(record: Mapping[str, Any], path: str) -> Any:
    value: Any = record
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def _matches(record: Mapping[str, Any], filters: Mapping[str, frozenset[str]]) -> bool:
    return all(_field(record, path) in accepted for path, accepted in filters.items())


class AuthlogStore:
    """Append records and read them back in pages."""

    def __init__(self, ctx: StoreContext, max_entries: int) -> None:
        self._ctx = ctx
        self._key = ctx.keys.authlog()
        self._max_entries = max_entries

    def append_command(self, record: Mapping[str, Any], now_ms: int) -> tuple[str | int, ...]:
        """The XADD for one record (callers may pipeline it)."""
        return ("XADD", self._key, "MAXLEN", "~", self._max_entries, f"{now_ms}-*",
                "e", json.dumps(record, separators=(",", ":")))

    async def append(self, record: Mapping[str, Any], now_ms: int) -> None:
        """Add one record."""
        command = self.append_command(record, now_ms)
        try:
            await self._ctx.redis.execute(*command)
        except RedisError:
            # Our clock is behind the newest entry: take the next automatic id instead.
            await self._ctx.redis.execute(*command[:5], "*", *command[6:])

    async def query(self, query: AuthlogQuery) -> AuthlogPage:
        """One page of records in the window (a full scan of it, to count the matches)."""
        records: list[dict[str, Any]] = []
        last_ids: list[str] = []
        total = 0
        async for entry_id, record in self._scan(query):
            if not _matches(record, query.filters):
                continue
            total += 1
            if len(records) < query.limit:
                records.append(record)
                last_ids.append(entry_id)
        next_offset = None
        if total > len(records):
            next_offset = (int(last_ids[-1].split("-")[0]), last_ids[-1])
        return AuthlogPage(records, next_offset, total)

    async def _scan(self, query: AuthlogQuery) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        redis = self._ctx.redis
        low, high = str(query.mintime), str(query.maxtime)
        if query.after:
            if query.ascending:
                low = f"({query.after}"
            else:
                high = f"({query.after}"
        while True:
            if query.ascending:
                batch = await redis.execute("XRANGE", self._key, low, high, "COUNT", _SCAN_BATCH)
            else:
                batch = await redis.execute("XREVRANGE", self._key, high, low, "COUNT", _SCAN_BATCH)
            for entry_id, fields in batch:
                yield entry_id, json.loads(dict(zip(fields[0::2], fields[1::2], strict=True))["e"])
            if len(batch) < _SCAN_BATCH:
                return
            if query.ascending:
                low = f"({batch[-1][0]}"
            else:
                high = f"({batch[-1][0]}"
