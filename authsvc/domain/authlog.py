"""Authentication log records (Duo's authlog v2 shape) and queries over them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from authsvc.errors import InvalidParameter
from authsvc.model.admin_factors import is_admin_subject
from authsvc.model.authlog import (
    AttemptFacts,
    LogPage,
    LogQuery,
    auth_record_of_row,
    auth_row,
)
from authsvc.model.verdicts import Verdict
from authsvc.obs.metrics import count_decision
from authsvc.store import Store

MAX_LIMIT = 1000
MAX_TIME_MS = 2**63  # stream ids are unsigned 64-bit milliseconds
_OFFSET_TS = re.compile(r"[0-9]{1,19}")
_OFFSET_ID = re.compile(r"[0-9]{1,19}-[0-9]{1,19}")
DEFAULT_LIMIT = 100

# authlog v2 filter parameter -> the record field it matches.
FILTER_FIELDS = {
    "users": "user.key",
    "results": "result",
    "reasons": "reason",
    "factors": "factor",
    "applications": "application.key",
    "event_types": "event_type",
}



def auth_record(facts: AttemptFacts, verdict: Verdict, now: float) -> dict[str, Any]:
    """One authlog v2 record. Never holds a code or seed: only ids, names and outcomes."""
    return auth_record_of_row(_row(facts, verdict, int(now * 1000)))


def _row(facts: AttemptFacts, verdict: Verdict, now_ms: int) -> list[Any]:
    return auth_row(facts, verdict.log_result, verdict.reason, verdict.factor, verdict.device,
                    now_ms)


def build_query(
    *,
    mintime: int,
    maxtime: int,
    limit: int | None,
    sort: str | None,
    next_offset: list[str],
    filters: Mapping[str, list[str]],
) -> LogQuery:
    """Validate authlog v2 parameters into a query; raises InvalidParameter naming the culprit."""
    if not 0 <= mintime <= maxtime < MAX_TIME_MS:
        raise InvalidParameter("mintime, maxtime (ms, 0 <= mintime <= maxtime)")
    limit = DEFAULT_LIMIT if limit is None else limit
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidParameter(f"limit (1-{MAX_LIMIT})")
    if sort not in (None, "ts:desc", "ts:asc"):
        raise InvalidParameter("sort (ts:desc or ts:asc)")
    after = None
    if next_offset:
        parts = [part for value in next_offset for part in value.split(",") if part]
        if len(parts) != 2 or not _OFFSET_TS.fullmatch(parts[0]) \
                or not _OFFSET_ID.fullmatch(parts[1]):
            raise InvalidParameter("next_offset")
        after = parts[1]
    return LogQuery(
        mintime=mintime, maxtime=maxtime, limit=limit, ascending=sort == "ts:asc", after=after,
        filters={FILTER_FIELDS[name]: frozenset(values)
                 for name, values in filters.items() if values})


class AuthLog:
    """Write and read the authentication log."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def record(self, facts: AttemptFacts, verdict: Verdict, now: float) -> None:
        """Append the record of one decision (and count it: `authsvc_decisions_total`).
        Administrators' second factors are not users' authentications: the panel writes them to
        the administrator log instead, and they are not counted."""
        if is_admin_subject(facts.user_id):
            return
        count_decision(verdict.factor or "none", verdict.log_result or "none")
        now_ms = int(now * 1000)
        await self._store.authlog.append_row(_row(facts, verdict, now_ms), now_ms)

    async def query(self, query: LogQuery) -> LogPage:
        """One page of records."""
        return await self._store.authlog.query(query)

    async def telephony(self, query: LogQuery) -> LogPage:
        """One page of the telephony log (every SMS and call, with its credits)."""
        return await self._store.telephony.query(query)
