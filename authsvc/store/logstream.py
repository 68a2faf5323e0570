"""Log streams (authentication log, telephony log): JSON records in a Redis stream whose ids are
``<timestamp ms>-<seq>``, so time-window queries are stream ranges; a record from a clock behind
the newest entry takes the next automatic id instead (log_append.lua). Each stream is trimmed
(approximately) to its configured length, and to its retention when one is set (entries older
than that go, whole stream nodes at a time). Authentication-log entries are rows (a JSON array
of the fields that vary, `model.authlog.auth_row`, field ``r``), expanded to Duo's record shape
on reading; entries written as whole JSON records (field ``e``, older versions) read as before.

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

from authsvc.model.authlog import LogPage, LogQuery, auth_record_of_row
from authsvc.store.core import StoreContext, flat_to_dict
from authsvc.store.redis_client import Arg, RedisError
from authsvc.store.scripts import ScriptName

_SCAN_BATCH = 500
JSON_FIELD = "e"  # a record as JSON (telephony, administrator log; authentication log before rows)
ROW_FIELD = "r"  # an authentication-log row (model.authlog.auth_row)
# Built once: json.dumps with options builds an encoder per call.
_compact = json.JSONEncoder(separators=(",", ":")).encode
_row_json = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
HOUR_MS = 3_600_000
RECENT_RESULTS = ("denied", "fraud")
log = logging.getLogger(__name__)



def _record(fields: list[str]) -> dict[str, Any]:
    """A stream entry's record: a row (`ROW_FIELD`) expanded, or JSON as written."""
    name, value = fields[0], fields[1]
    if name == ROW_FIELD:
        return auth_record_of_row(json.loads(value))
    record: dict[str, Any] = json.loads(value)
    return record


def _stored(value: Any) -> dict[str, Any]:
    """A record as the recent list keeps it: a row (a JSON array) expanded, or the record."""
    if isinstance(value, list):
        return auth_record_of_row(value)
    record: dict[str, Any] = value
    return record


def _field(record: Mapping[str, Any], path: str) -> Any:
    value: Any = record
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def _matches(record: Mapping[str, Any], filters: Mapping[str, frozenset[str]]) -> bool:
    return all(_field(record, path) in accepted for path, accepted in filters.items())


class LogStream:
    """Append records to one log stream and read them back in pages."""

    def __init__(self, ctx: StoreContext, key: str, max_entries: int,
                 retention_ms: int = 0, *, tallied: bool = False) -> None:
        self._ctx = ctx
        self._key = key
        self._max_entries = max_entries
        self._retention_ms = retention_ms
        self._tallied = tallied
        self._retries: set[asyncio.Future[Any]] = set()

    def _call(self, now_ms: int, field: str, value: str, result: str
              ) -> tuple[list[str], list[Arg]]:
        """KEYS and ARGV of log_append.lua; a tallied log (authentication) also counts the
        record's `result` in its hour and keeps denials and fraud in the recent list."""
        oldest = now_ms - self._retention_ms if self._retention_ms else 0
        args: list[Arg] = [now_ms, self._max_entries, field, value, oldest]
        if not self._tallied:
            return [self._key], args
        keys = [self._key, self._ctx.keys.authlog_hour(now_ms // HOUR_MS),
                self._ctx.keys.authlog_denials()]
        return keys, [*args, result, "1" if result in RECENT_RESULTS else "0"]

    async def append(self, record: Mapping[str, Any], now_ms: int) -> None:
        """Add one record without waiting for Redis to confirm it: the decision it records is
        already committed, so the request does not wait. If the script was flushed from Redis
        (NOSCRIPT) the record is sent again once it is reloaded; any other failure is logged."""
        await self._send(*self._call(now_ms, JSON_FIELD, _compact(record),
                                     str(record.get("result", ""))))

    async def append_row(self, row: list[Any], now_ms: int) -> None:
        """`append` for an authentication-log row (`model.authlog.auth_row`: a JSON array,
        expanded to Duo's record shape when read; its result is its fourth field)."""
        await self._send(*self._call(now_ms, ROW_FIELD, _row_json(row), str(row[3])))

    async def _send(self, keys: list[str], args: list[Arg]) -> None:
        sent = await self._ctx.scripts.send(ScriptName.LOG_APPEND, keys, args)
        sent.add_done_callback(lambda done: self._check(done, keys, args))

    async def append_awaited(self, record: Mapping[str, Any], now_ms: int) -> None:
        """Add one record and wait until Redis has it (administrator actions: the caller is
        told only once the record of the change is stored)."""
        keys, args = self._call(now_ms, JSON_FIELD, _compact(record),
                                str(record.get("result", "")))
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
        return [_stored(json.loads(entry)) for entry in raw]

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
                yield entry_id, _record(fields)
            if len(batch) < _SCAN_BATCH:
                return
            if query.ascending:
                low = f"({batch[-1][0]}"
            else:
                high = f"({batch[-1][0]}"
