"""The authentication log: what one attempt records besides its verdict, and log queries."""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from authsvc.model.values import value

# The id of the HTTP request being served (set by `http/observe.py`, echoed as X-Request-Id);
# a task started while serving it inherits it. Empty outside a request.
REQUEST_ID: ContextVar[str] = ContextVar("authsvc_request_id", default="")


@value
class AttemptFacts:
    """What the log records about one attempt besides the verdict."""

    txid: str
    app_key: str
    app_name: str
    user_id: str = ""
    username: str = ""
    alias: str = ""
    email: str = ""
    ipaddr: str | None = None
    hostname: str | None = None
    # The request that started the attempt (kept with a push, so its answer, decided in
    # another request, is logged with the request that asked).
    request_id: str = field(default_factory=REQUEST_ID.get)


@dataclass(frozen=True, slots=True)
class LogQuery:
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
    count: bool = True
    """False: stop at the page's last match (the page's `total` is then a lower bound)."""
    scan_limit: int = 0
    """At most this many records are read (0: the whole window): a page that must stay fast
    whatever the log's size (the Admin Panel's user page)."""


@dataclass(frozen=True, slots=True)
class LogPage:
    """Records of one page, the cursor of the next page (None at the end) and the match count.

    `total` counts the matches from this page's start to the end of the window: on the first
    page (no cursor) that is every match in the window.
    """

    records: list[dict[str, Any]]
    next_offset: tuple[int, str] | None
    total: int


# An authentication-log entry is stored as a JSON array of these fields (the rest of Duo's
# authlog v2 shape is constant and rebuilt on reading): a fixed schema, no field names, and
# every free-text field cut to its limit, so an entry's size is bounded (docs/api.md).
ROW_FIELDS = ("txid", "ts_ms", "result", "reason", "factor", "user_key", "user_name", "alias",
              "email", "app_key", "app_name", "ip", "hostname", "device", "request_id")
TEXT_LIMIT = 255  # characters of any free-text field kept in the log
ROW_VERSION = 1


def _cut(value: str | None) -> str | None:
    return value if value is None or len(value) <= TEXT_LIMIT else value[:TEXT_LIMIT]


def auth_row(facts: AttemptFacts, result: str, reason: str, factor: str, device: str,
             now_ms: int) -> list[Any]:
    """The stored form of one authentication-log record (`auth_record_of_row` reads it)."""
    return [ROW_VERSION, facts.txid, now_ms, result, reason, factor, facts.user_id,
            _cut(facts.username), _cut(facts.alias), _cut(facts.email), facts.app_key,
            _cut(facts.app_name), _cut(facts.ipaddr), _cut(facts.hostname), _cut(device) or None,
            _cut(facts.request_id) or None]


def auth_record_of_row(row: list[Any]) -> dict[str, Any]:
    """Duo's authlog v2 record of a stored row."""
    (_, txid, ts_ms, result, reason, factor, user_key, user_name, alias, email, app_key,
     app_name, ip, hostname, device, *rest) = row
    nowhere = {"city": None, "state": None, "country": None}
    return {
        "txid": txid,
        "timestamp": ts_ms // 1000,
        "isotimestamp": datetime.fromtimestamp(ts_ms / 1000, UTC).isoformat(
            timespec="milliseconds"),
        "event_type": "authentication",
        "result": result,
        "reason": reason,
        "factor": factor,
        "user": {"key": user_key, "name": user_name, "groups": []},
        "alias": alias,
        "email": email,
        "application": {"key": app_key, "name": app_name},
        "access_device": {"ip": ip, "hostname": hostname, "location": dict(nowhere)},
        "auth_device": {"ip": None, "name": device, "location": dict(nowhere)},
        "ood_software": None,
        "trusted_endpoint_status": None,
        "request_id": rest[0] if rest else None,  # authsvc: the X-Request-Id of the attempt
    }
