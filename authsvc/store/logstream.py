"""Log streams (authentication log, telephony log): JSON records in a Redis stream whose ids are
``<timestamp ms>-<seq>``, so time-window queries are stream ranges; a record from a clock behind
the newest entry takes the next automatic id instead (log_append.lua). Each stream is trimmed
(approximately) to its configured length.

The stream keys have no user hash tag: they are never touched by a script together with user
keys, so a record is one extra command after the decision (see docs/architecture.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncGenerator, Mapping
from typing import Any

from authsvc.model.authlog import LogPage, LogQuery
from authsvc.store.core import StoreContext, flat_to_dict
from authsvc.store.redis_client import Arg, RedisError
from authsvc.store.scripts import ScriptName

_SCAN_BATCH = 500
HOUR_MS = 3_600_000
RECENT_RESULTS = ("denied", "fraud")
log = logging.getLogger(__name__)



def _field(record: Mapping[str, Any], path: str) -> Any:
    value: Any = record
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def _matches(record: Mapping[str, Any], filters: Mapping[str, frozenset[str]]) -> bool:
    return all(_field(record, path) in accepted for path, accepted in filters.items())


class LogStream:
    """Append records to one log stream and read them back in pages."""

    def __init__(self, ctx: StoreContext, key: str, max_entries: int, *,
                 tallied: bool = False) -> None:
        self._ctx = ctx
        self._key = key
        self._max_entries = max_entries
        self._tallied = tallied
        self._retries: set[asyncio.Future[Any]] = set()

    def _call(self, record: Mapping[str, Any], now_ms: int) -> tuple[list[str], list[Arg]]:
        """KEYS and ARGV of log_append.lua; a tallied log (authentication) also counts the
        record's `result` in its hour and keeps denials and fraud in the recent list."""
        args: list[Arg] = [now_ms, self._max_entries, json.dumps(record, separators=(",", ":"))]
        if not self._tallied:
            return [self._key], args
        result = str(record.get("result", ""))
        keys = [self._key, self._ctx.keys.authlog_hour(now_ms // HOUR_MS),
                self._ctx.keys.authlog_denials()]
        return keys, [*args, result, "1" if result in RECENT_RESULTS else "0"]

    async def append(self, record: Mapping[str, Any], now_ms: int) -> None:
        """Add one record without waiting for Redis to confirm it: the decision it records is
        already committed, so the request does not wait. If the script was flushed from Redis
        (NOSCRIPT) the record is sent again once it is reloaded; any other failure is logged."""
        keys, args = self._call(record, now_ms)
        sent = await self._ctx.scripts.send(ScriptName.LOG_APPEND, keys, args)
        sent.add_done_callback(lambda done: self._check(done, keys, args))

    async def append_awaited(self, record: Mapping[str, Any], now_ms: int) -> None:
        """Add one record and wait until Redis has it (administrator actions: the caller is
        told only once the record of the change is stored)."""
        keys, args = self._call(record, now_ms)
        await self._ctx.scripts.run(ScriptName.LOG_APPEND, keys, args)

    def _check(self, done: asyncio.Future[Any], keys: list[str], args: list[Arg]) -> None:
        error = done.exception()
        if isinstance(error, RedisError) and str(error).startswith("NOSCRIPT"):
            retry = asyncio.ensure_future(
                self._ctx.scripts.run(ScriptName.LOG_APPEND, keys, args))
            self._retries.add(retry)
            retry.add_done_callback(self._report)
        elif error is not None:
            log.error("log record lost (%s): %s", self._key, error)

    def _report(self, done: asyncio.Future[Any]) -> None:
        self._retries.discard(done)
        if done.exception() is not None:
            log.error("log record lost (%s): %s", self._key, done.exception())

    async def hourly(self, first_hour: int, hours: int) -> list[dict[str, int]]:
        """Each hour's counts by result, from `first_hour` (unix hours), in one round trip
        (a tallied log only)."""
        replies = await self._ctx.redis.pipeline(
            [("HGETALL", self._ctx.keys.authlog_hour(first_hour + i)) for i in range(hours)])
        return [{field: int(value) for field, value in flat_to_dict(reply).items()}
                for reply in replies]

    async def recent_denials(self, count: int) -> list[dict[str, Any]]:
        """The newest denied and fraud records, newest first (a tallied log only)."""
        raw = await self._ctx.redis.execute("LRANGE", self._ctx.keys.authlog_denials(), 0,
                                            count - 1)
        return [json.loads(entry) for entry in raw]

    async def query(self, query: LogQuery) -> LogPage:
        """One page of records in the window (a full scan of it, to count the matches)."""
        records: list[dict[str, Any]] = []
        last_ids: list[str] = []
        total = 0
        scanned = 0
        async with contextlib.aclosing(self._scan(query)) as entries:
            async for entry_id, record in entries:
                scanned += 1
                if query.scan_limit and scanned > query.scan_limit:
                    break
                if not _matches(record, query.filters):
                    continue
                total += 1
                if len(records) < query.limit:
                    records.append(record)
                    last_ids.append(entry_id)
                elif not query.count:
                    break
        next_offset = None
        if total > len(records):
            next_offset = (int(last_ids[-1].split("-")[0]), last_ids[-1])
        return LogPage(records, next_offset, total)

    async def _scan(self, query: LogQuery) -> AsyncGenerator[tuple[str, dict[str, Any]]]:
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
